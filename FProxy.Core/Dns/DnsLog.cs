using System.Net;
using Microsoft.Extensions.Logging;

namespace FProxy.Dns;

/// <summary>Log messages of the DNS part; event ids 1100-1199.</summary>
internal static partial class DnsLog
{
    [LoggerMessage(EventId = 1100, Level = LogLevel.Warning, Message = "DNS lookup for {Host} failed: {Reason}")]
    public static partial void LookupFailed(ILogger logger, string host, string reason);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Debug, Message = "{Host} resolved to {Addresses} from {Source}")]
    public static partial void Resolved(ILogger logger, string host, IPAddress[] addresses, string source);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Information, Message = "{Host} now resolves to {Addresses} from {Source} (was {Previous})")]
    public static partial void AnswerChanged(ILogger logger, string host, IPAddress[] addresses, string source, IPAddress[] previous);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Keeping the last good addresses of {Host} ({Addresses}) while its lookups fail; retrying in {Retry}")]
    public static partial void KeptLastGoodAnswer(ILogger logger, string host, IPAddress[] addresses, TimeSpan retry);

    [LoggerMessage(EventId = 1104, Level = LogLevel.Information, Message = "{Host} resolves again after {Failures} failed lookups")]
    public static partial void Recovered(ILogger logger, string host, int failures);

    [LoggerMessage(EventId = 1105, Level = LogLevel.Debug, Message = "Hosts file {Path} loaded: {Count} names")]
    public static partial void HostsFileLoaded(ILogger logger, string path, int count);

    [LoggerMessage(EventId = 1106, Level = LogLevel.Warning, Message = "Hosts file {Path} could not be read; keeping what was read before")]
    public static partial void HostsFileUnreadable(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 1107, Level = LogLevel.Information, Message = "Resolving target names with nameservers {Servers} ({Origin})")]
    public static partial void UsingNameServers(ILogger logger, string servers, string origin);

    [LoggerMessage(EventId = 1108, Level = LogLevel.Warning, Message = "No nameserver found in the system configuration and FPROXY_DNS_SERVERS is not set: only names in the hosts file will resolve")]
    public static partial void NoNameServers(ILogger logger, Exception? exception);

    [LoggerMessage(EventId = 1109, Level = LogLevel.Debug, Message = "{Host} is no longer used: stopped refreshing it")]
    public static partial void NameDropped(ILogger logger, string host);

    [LoggerMessage(EventId = 1110, Level = LogLevel.Error, Message = "Unexpected error while refreshing {Host}")]
    public static partial void RefreshError(ILogger logger, string host, Exception exception);

    [LoggerMessage(EventId = 1111, Level = LogLevel.Information, Message = "Target names are looked up with {Config} ({Sources})")]
    public static partial void SearchConfigured(ILogger logger, string config, string sources);

    [LoggerMessage(EventId = 1112, Level = LogLevel.Warning, Message = "Resolver configuration {Path} could not be read; keeping the search list and options read before")]
    public static partial void ResolvConfUnreadable(ILogger logger, string path, Exception exception);
}

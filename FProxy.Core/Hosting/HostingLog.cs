using Microsoft.Extensions.Logging;

namespace FProxy.Hosting;

/// <summary>Log messages of the hosted service (the proxy's lifetime in a host). EventIds 1400-1449.</summary>
internal static partial class HostingLog
{
    [LoggerMessage(1400, LogLevel.Critical, "{Message}")]
    public static partial void SourceFailed(ILogger logger, string message);

    /// <summary>
    /// Each proxied connection holds two descriptors: the limit sets the ceiling. What the process
    /// was started with is not said: the runtime raises the soft limit itself before any of our
    /// code runs, so the value read here would be the runtime's, not the one the process got.
    /// </summary>
    [LoggerMessage(1401, LogLevel.Information, "open files limit {Limit} (hard limit {Hard}): room for about {Connections} proxied connections at once, two descriptors each")]
    public static partial void OpenFiles(ILogger logger, ulong limit, ulong hard, ulong connections);

    [LoggerMessage(1402, LogLevel.Information, "shutting down: not ready; listeners stay open for {Delay} (FPROXY_SHUTDOWN_DELAY), then drain")]
    public static partial void ShutdownDelay(ILogger logger, string delay);

    [LoggerMessage(1406, LogLevel.Information, "SIGHUP: reading config {Path} again")]
    public static partial void Hangup(ILogger logger, string path);

    [LoggerMessage(1407, LogLevel.Information, "SIGHUP ignored: the config source {Source} follows its changes on its own")]
    public static partial void HangupIgnored(ILogger logger, string source);

    [LoggerMessage(1408, LogLevel.Warning, "inline socket completions are off ({Variable}={Value}): on the sockets transport every I/O completion hops to the thread pool, about twice the CPU per connection")]
    public static partial void InlineCompletionsOff(ILogger logger, string variable, string value);

    [LoggerMessage(1409, LogLevel.Warning, "open files limit {Limit} (hard limit {Hard}) allows about {Connections} proxied connections; raise it (ulimit -n, LimitNOFILE=) for more")]
    public static partial void OpenFilesLow(ILogger logger, ulong limit, ulong hard, ulong connections);

    /// <summary>Start-time: the kernel resets, rather than hands over, what a stopping process's listeners hold.</summary>
    [LoggerMessage(1415, LogLevel.Warning, "net.ipv4.tcp_migrate_req is 0: on a process handover (a second process bound to the same ports, then the first one stopped) connections still queued on the stopping process's listeners are reset; set net.ipv4.tcp_migrate_req=1 (sysctl) to move them to the new process")]
    public static partial void MigrateRequestsOff(ILogger logger);

    [LoggerMessage(1416, LogLevel.Debug, "{Path} cannot be read (a kernel before 5.14, or not Linux): on a process handover, connections still queued on the stopping process's listeners cannot be moved to the new process")]
    public static partial void MigrateRequestsUnknown(ILogger logger, string path);

    [LoggerMessage(1418, LogLevel.Information, "systemd notified: READY=1 (config version {Version} applied)")]
    public static partial void SystemdReady(ILogger logger, long version);
}

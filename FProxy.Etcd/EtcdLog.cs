using Microsoft.Extensions.Logging;

namespace FProxy.Etcd;

/// <summary>Log messages of the etcd source and the node report. EventIds 1600-1699.</summary>
internal static partial class EtcdLog
{
    [LoggerMessage(EventId = 1600, Level = LogLevel.Information, Message = "etcd {Endpoint}: {AppCount} app key(s) under {Prefix} at revision {Revision}; watching from revision {Next}")]
    public static partial void Synced(ILogger logger, Uri endpoint, int appCount, string prefix, long revision, long next);

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "etcd connection lost ({Endpoint}: {Reason}); serving the last good config, revision {Revision}, while reconnecting")]
    public static partial void ConnectionLost(ILogger logger, Uri endpoint, string reason, long revision);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Information, Message = "etcd connection back ({Endpoint}) after {Outage}")]
    public static partial void ConnectionBack(ILogger logger, Uri endpoint, string outage);

    [LoggerMessage(EventId = 1603, Level = LogLevel.Warning, Message = "Waiting for etcd ({Endpoints}: {Reason}); no config to serve yet, so not ready")]
    public static partial void Waiting(ILogger logger, string endpoints, string reason);

    [LoggerMessage(EventId = 1604, Level = LogLevel.Information, Message = "etcd history before revision {Compacted} was compacted, past the watch's start {Start}: reading every app again")]
    public static partial void Compacted(ILogger logger, long compacted, long start);

    [LoggerMessage(EventId = 1605, Level = LogLevel.Information, Message = "Serving the last good copy {Path} (etcd revision {Revision}, {AppCount} apps) until etcd answers")]
    public static partial void ServingCopy(ILogger logger, string path, long revision, int appCount);

    [LoggerMessage(EventId = 1606, Level = LogLevel.Warning, Message = "The last good copy {Path} is unusable and is ignored: {Reason}")]
    public static partial void CopyUnusable(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1607, Level = LogLevel.Warning, Message = "Could not write the last good copy in {Directory}: {Reason}")]
    public static partial void CopyWriteFailed(ILogger logger, string directory, string reason);

    [LoggerMessage(EventId = 1608, Level = LogLevel.Information, Message = "etcd key {Key} applies again")]
    public static partial void KeyFixed(ILogger logger, string key);

    [LoggerMessage(EventId = 1609, Level = LogLevel.Debug, Message = "etcd revision {Revision}: {Changes} change(s) under apps/")]
    public static partial void Changed(ILogger logger, long revision, int changes);

    [LoggerMessage(EventId = 1610, Level = LogLevel.Warning, Message = "Node report {Key} could not be written ({Endpoint}: {Reason}); retrying")]
    public static partial void ReportFailed(ILogger logger, string key, Uri endpoint, string reason);

    [LoggerMessage(EventId = 1612, Level = LogLevel.Debug, Message = "Node report {Key} could not be written ({Endpoint}: {Reason}); retrying")]
    public static partial void ReportFailedQuietly(ILogger logger, string key, Uri endpoint, string reason);

    [LoggerMessage(EventId = 1613, Level = LogLevel.Warning, Message = "etcd is at revision {Revision}, behind the {Applied} this node applied (restored from a backup, or rebuilt?): reading every app again")]
    public static partial void WentBack(ILogger logger, long revision, long applied);

    [LoggerMessage(EventId = 1611, Level = LogLevel.Information, Message = "Node report {Key} on lease {Lease:x} (TTL {Ttl} s)")]
    public static partial void Reporting(ILogger logger, string key, long lease, long ttl);
}

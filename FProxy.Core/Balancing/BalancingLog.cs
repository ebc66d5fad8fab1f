using Microsoft.Extensions.Logging;

namespace FProxy.Balancing;

/// <summary>Log messages of balancing and health, events 1500-1599.</summary>
internal static partial class BalancingLog
{
    [LoggerMessage(1500, LogLevel.Warning, "{App}: all {Count} target(s) of {Pool} are unavailable, so all are tried (panic mode)")]
    public static partial void PanicStarted(ILogger logger, string app, string pool, int count);

    [LoggerMessage(1501, LogLevel.Information, "{App}: panic mode over for {Pool}: {Available} of {Count} target(s) available")]
    public static partial void PanicEnded(ILogger logger, string app, string pool, int available, int count);

    [LoggerMessage(1502, LogLevel.Error, "{App}: strategy {Strategy} failed to build, round robin stands in")]
    public static partial void StrategyFailed(ILogger logger, string app, string strategy, Exception exception);

    [LoggerMessage(1510, LogLevel.Warning, "{App}: target {Target} unhealthy: {Reason}")]
    public static partial void TargetUnhealthy(ILogger logger, string app, string target, string reason);

    [LoggerMessage(1511, LogLevel.Information, "{App}: target {Target} healthy: {Reason}")]
    public static partial void TargetHealthy(ILogger logger, string app, string target, string reason);

    [LoggerMessage(1512, LogLevel.Warning, "{App}: target {Target} {Reason}")]
    public static partial void TargetEjected(ILogger logger, string app, string target, string reason);

    [LoggerMessage(1513, LogLevel.Information, "{App}: target {Target} back in rotation: {Reason}")]
    public static partial void TargetReturned(ILogger logger, string app, string target, string reason);

    [LoggerMessage(1514, LogLevel.Debug, "{App}: check of {Target} failed: {Reason}")]
    public static partial void ProbeFailed(ILogger logger, string app, string target, string reason);

    [LoggerMessage(1503, LogLevel.Error, "{App}: health probe {Probe} failed to build, the TCP probe stands in")]
    public static partial void ProbeFactoryFailed(ILogger logger, string app, string probe, Exception exception);
}

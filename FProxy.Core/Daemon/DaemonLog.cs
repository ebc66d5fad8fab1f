using System.Net;
using Microsoft.Extensions.Logging;

namespace FProxy.Daemon;

/// <summary>Daemon log messages, EventIds 1300-1399.</summary>
internal static partial class DaemonLog
{
    [LoggerMessage(1300, LogLevel.Information, "{App}: listening on {EndPoint}")]
    public static partial void PortBound(ILogger logger, string app, IPEndPoint endPoint);

    [LoggerMessage(1301, LogLevel.Error, "{App}: port {Port} cannot be bound: {Reason}; retrying in {RetryMs} ms")]
    public static partial void PortBindFailed(ILogger logger, string app, int port, string reason, long retryMs);

    [LoggerMessage(1302, LogLevel.Information, "{App}: port {Port} closed, draining {Connections} connection(s) for up to {DrainMs} ms")]
    public static partial void PortDraining(ILogger logger, string app, int port, int connections, long drainMs);

    [LoggerMessage(1303, LogLevel.Warning, "port {Port}: drain deadline passed, {Count} connection(s) reset")]
    public static partial void DrainReset(ILogger logger, int port, int count);

    [LoggerMessage(1304, LogLevel.Information, "port {Port}: now routed to app {App}")]
    public static partial void PortRerouted(ILogger logger, int port, string app);

    [LoggerMessage(1305, LogLevel.Information, "config applied: version {Version} (hash {Hash}), {Apps} app(s), {Ports} port(s); {Added} port(s) added, {Removed} removed, {Rerouted} rerouted, {Rebound} rebound")]
    public static partial void ConfigApplied(ILogger logger, long version, string hash, int apps, int ports, int added, int removed, int rerouted, int rebound);

    [LoggerMessage(1306, LogLevel.Information, "shutting down: listeners closed, draining {Connections} connection(s)")]
    public static partial void ShuttingDown(ILogger logger, int connections);

    [LoggerMessage(1307, LogLevel.Information, "shutdown complete")]
    public static partial void ShutdownComplete(ILogger logger);

    [LoggerMessage(1308, LogLevel.Information, "{App}: port {Port} rebinding (Bind or Backlog changed)")]
    public static partial void PortRebinding(ILogger logger, string app, int port);

    [LoggerMessage(1309, LogLevel.Warning, "{App}: none of its targets resolve ({Reasons}); applied anyway, it recovers when they do")]
    public static partial void AppUnresolvable(ILogger logger, string app, string reasons);

    [LoggerMessage(1312, LogLevel.Error, "rollout rejected, nothing changed, version {Version} stays in force: {Reason}")]
    public static partial void RolloutRejected(ILogger logger, long version, string reason, Exception? exception);

    [LoggerMessage(1311, LogLevel.Error, "rollout of a valid config failed, the running config stays in force as far as it was kept: {Reason}")]
    public static partial void RolloutFailed(ILogger logger, string reason, Exception exception);

    [LoggerMessage(1310, LogLevel.Error, "{App}: port {Port} listener failed: {Reason}; rebinding in {RetryMs} ms")]
    public static partial void ListenerFailed(ILogger logger, string app, int port, string reason, long retryMs);
}

using System.Net;
using System.Net.Sockets;
using FProxy.Configuration;
using Microsoft.Extensions.Logging;

namespace FProxy.Transport;

/// <summary>Transport log messages, EventIds 1200-1299.</summary>
internal static partial class TransportLog
{
    [LoggerMessage(1200, LogLevel.Debug, "{App}: target {Target} unreachable: {Reason}")]
    public static partial void TargetUnreachable(ILogger logger, string app, TargetConfig target, string reason);

    [LoggerMessage(1201, LogLevel.Warning, "{App}: port {Port}: no target reachable for client {Client} after {Attempts} target(s): {Reason}; client reset ({Suppressed} more such failures since the last report)")]
    public static partial void NoTarget(ILogger logger, string app, int port, IPEndPoint? client, int attempts, string reason, int suppressed);

    [LoggerMessage(1204, LogLevel.Debug, "{App}: port {Port}: no target reachable for client {Client}: {Reason}; client reset")]
    public static partial void NoTargetRepeated(ILogger logger, string app, int port, IPEndPoint? client, string reason);

    [LoggerMessage(1202, LogLevel.Debug, "{App}: port {Port}: {Client} -> {Target} connected")]
    public static partial void Connected(ILogger logger, string app, int port, IPEndPoint? client, TargetConfig target);

    [LoggerMessage(1203, LogLevel.Debug, "{App}: port {Port}: {Client} closed ({End}), {Up} bytes up, {Down} bytes down")]
    public static partial void Closed(ILogger logger, string app, int port, IPEndPoint? client, PumpEnd end, long up, long down);

    [LoggerMessage(1210, LogLevel.Warning, "port {Port}: accept failed ({Error}): out of file descriptors (EMFILE/ENFILE) or socket memory; backing off")]
    public static partial void AcceptStarved(ILogger logger, int port, SocketError error);

    [LoggerMessage(1211, LogLevel.Information, "port {Port}: accepting again after {Failures} failed accept(s)")]
    public static partial void AcceptResumed(ILogger logger, int port, int failures);

    [LoggerMessage(1212, LogLevel.Error, "port {Port}: accept failed unexpectedly ({Error}); retrying")]
    public static partial void AcceptFailed(ILogger logger, int port, SocketError error);

    [LoggerMessage(1214, LogLevel.Warning, "port {Port}: {Active} connections in use, the open files limit ({Limit}) allows no more: pausing accepts until one ends, rather than run out of file descriptors (EMFILE)")]
    public static partial void AcceptPaused(ILogger logger, int port, int active, long limit);

    [LoggerMessage(1220, LogLevel.Warning, "{App}: port {Port}: PROXY protocol header from {Client} rejected ({Reason}): {Detail}; connection reset ({Suppressed} more since the last report)")]
    public static partial void HeaderRejected(ILogger logger, string app, int port, System.Net.IPEndPoint? client, string reason, string detail, int suppressed);

    [LoggerMessage(1221, LogLevel.Warning, "{App}: port {Port}: connection from {Client} reset ({Reason}): {Detail} ({Suppressed} more since the last report)")]
    public static partial void LimitRefused(ILogger logger, string app, int port, System.Net.IPEndPoint? client, string reason, string detail, int suppressed);

    [LoggerMessage(1213, LogLevel.Error, "{App}: port {Port}: connection handler failed")]
    public static partial void HandlerFailed(ILogger logger, string app, int port, Exception exception);
}

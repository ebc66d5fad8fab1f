using System.Net;
using System.Net.Sockets;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Routing;

namespace FProxy.Transport;

/// <summary>
/// The transport seam: one accepted client and, once connected, its target, as the shared
/// connection logic (<see cref="ConnectionHandler"/>, <see cref="TargetConnector"/>) sees them.
/// Each transport (the runtime's sockets everywhere, epoll on Linux) pools its own kind. One
/// operation at a time; every operation reports failures as values and never throws for a peer's
/// behaviour.
/// </summary>
internal abstract class TransportConnection : IRouteRequest
{
    /// <summary>The client's address (IPv4-mapped IPv6 as IPv4), or null when the OS gave none.</summary>
    public abstract IPEndPoint? ClientEndPoint { get; }

    /// <summary>The listener's group the connection was accepted into (drains, status).</summary>
    public ConnectionGroup? Group { get; protected set; }

    /// <summary>An unexpected exception that ended the pump, if any (the handler logs it).</summary>
    public virtual Exception? Failure => null;

    /// <summary>Joins the group the listener counted the connection in: its drain deadline aborts it.</summary>
    public virtual void Join(ConnectionGroup group) => Group = group;

    /// <summary>
    /// True once <see cref="Abort"/> was called (drain deadline, shutdown): a failure seen after it
    /// is not the target's fault.
    /// </summary>
    public abstract bool IsAborted { get; }

    /// <summary>
    /// Reads the client's first bytes without consuming them (they reach the target later,
    /// unchanged) until the TLS ClientHello parser decides, the client sends a FIN, or
    /// <paramref name="timeout"/> passes.
    /// </summary>
    /// <returns>The server name or null (not TLS, no SNI, timed out); Failed when the client reset or the connection was aborted.</returns>
    public abstract ValueTask<(string? Name, bool Failed)> PeekServerNameAsync(TimeSpan timeout);

    /// <summary>
    /// Connects the target side to one of <paramref name="addresses"/> (raced Happy-Eyeballs style
    /// when there are several) before <paramref name="deadline"/> (a timestamp of the transport's
    /// clock). A failed attempt leaves the connection ready for another call.
    /// </summary>
    /// <returns>Success, TimedOut at the deadline, OperationAborted after <see cref="Abort"/>, or the last attempt's error.</returns>
    public abstract ValueTask<SocketError> ConnectAsync(IPAddress[] addresses, int port, long deadline, KeepAliveConfig keepAlive);

    /// <summary>
    /// Moves bytes both ways until both directions have ended (FIN each way) or one side failed,
    /// in which case both are reset; closes both sides before it completes. Bytes are counted on
    /// <paramref name="counter"/> as they are sent on. A connection that moved nothing either way
    /// (and has nothing waiting to be sent) for <paramref name="idleTimeout"/> is closed with a FIN.
    /// </summary>
    public abstract ValueTask<PumpResult> PumpAsync(TargetState? counter, TimeSpan? idleTimeout);

    /// <summary>Resets the client (and a connected target) at once: for connections that will not be pumped.</summary>
    public abstract void Reset();

    /// <summary>Resets everything now, whatever the connection is doing. Any thread, any time, idempotent.</summary>
    public abstract void Abort();

    /// <summary>Hands the connection back to its transport's pool. Last call, after every operation completed.</summary>
    public abstract void Release();
}

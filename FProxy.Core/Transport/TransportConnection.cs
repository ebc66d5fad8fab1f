using System.Net;
using System.Net.Sockets;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.ProxyProtocol;
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
    private ProxyHeader _header;
    private IPEndPoint? _headerClient;

    /// <summary>
    /// The client's address (IPv4-mapped IPv6 as IPv4): the one a received PROXY protocol header
    /// carried, else the socket's peer. Made on first use.
    /// </summary>
    public IPEndPoint? ClientEndPoint =>
        _header.Addresses is { } addresses ? _headerClient ??= SocketSetup.Normalize(addresses.SourceEndPoint()) : PeerEndPoint;

    /// <summary>The socket's peer (IPv4-mapped IPv6 as IPv4), or null when the OS gave none: a load balancer when a header was received.</summary>
    public abstract IPEndPoint? PeerEndPoint { get; }

    /// <summary>Why the last header read failed (a fixed text), for the log.</summary>
    public string? HeaderProblem { get; private set; }

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
    /// Reads the client's PROXY protocol header (v1 or v2) and consumes it: the bytes after it are
    /// kept for the target, and <see cref="ClientEndPoint"/> becomes the header's source when it
    /// carries addresses. Ends at <paramref name="timeout"/>, at a byte that cannot be part of a
    /// header, or when the client closes.
    /// </summary>
    public abstract ValueTask<ProxyHeaderOutcome> ReadProxyHeaderAsync(TimeSpan timeout);

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
    /// With <paramref name="header"/>, the target first gets a PROXY protocol header, in the same
    /// send as the client's first bytes when those are already waiting.
    /// </summary>
    public abstract ValueTask<PumpResult> PumpAsync(TargetState? counter, TimeSpan? idleTimeout, ProxyProtocolVersion header = ProxyProtocolVersion.None);

    /// <summary>Resets the client (and a connected target) at once: for connections that will not be pumped.</summary>
    public abstract void Reset();

    /// <summary>Resets everything now, whatever the connection is doing. Any thread, any time, idempotent.</summary>
    public abstract void Abort();

    /// <summary>Hands the connection back to its transport's pool. Last call, after every operation completed.</summary>
    public abstract void Release();

    /// <summary>
    /// Parses the bytes buffered so far as a PROXY protocol header; when done, the header is kept
    /// and <paramref name="consumed"/> is its length. Shared by the transports.
    /// </summary>
    protected ProxyParseStatus ExamineHeader(ReadOnlySpan<byte> buffered, out int consumed)
    {
        var status = ProxyHeaderParser.TryParse(buffered, out var header, out consumed, out var reason);
        if (status == ProxyParseStatus.Done)
        {
            _header = header;
        }

        HeaderProblem = reason;
        return status;
    }

    /// <summary>Records why a header read ended without a header (a closed client, a timeout).</summary>
    protected void SetHeaderProblem(string problem) => HeaderProblem = problem;

    /// <summary>
    /// Writes the header for the target into <paramref name="buffer"/> (<see cref="ProxyHeaderWriter.MaxLength"/>
    /// bytes): the received header's addresses, else the socket's own; a LOCAL (v1: UNKNOWN)
    /// header when the socket has no IP addresses.
    /// </summary>
    protected int WriteHeader(Span<byte> buffer, ProxyProtocolVersion version)
    {
        var addresses = _header.Addresses is { } received ? received.Normalized() : TryGetSocketAddresses(out var own) ? own : (ProxyAddresses?)null;
        return addresses is { } ends
            ? ProxyHeaderWriter.Write(buffer, (int)version, ends)
            : ProxyHeaderWriter.WriteLocal(buffer, (int)version);
    }

    /// <summary>The socket's peer and local addresses, as a header sends them; false when they are not IP.</summary>
    protected abstract bool TryGetSocketAddresses(out ProxyAddresses addresses);

    /// <summary>Forgets the header of the last life (pooling).</summary>
    protected void ClearHeader()
    {
        _header = default;
        _headerClient = null;
        HeaderProblem = null;
    }
}

using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.ProxyProtocol;

namespace FProxy.Transport.Sockets;

/// <summary>
/// A proxied connection on the sockets transport: the runtime's Socket on each side and a pooled
/// <see cref="DuplexPump"/>. Operations may run on any thread; <see cref="Abort"/> reaches
/// whichever one is under way through a cancellation source (peek, connect) or the pump itself.
/// </summary>
internal sealed class SocketConnection(SocketTransport transport, DuplexPump pump) : TransportConnection
{
    private Socket? _client;
    private Socket? _target;
    private IPEndPoint? _clientEndPoint;
    private CancellationTokenSource? _operation;
    private CancellationTokenRegistration _onGroupAbort;
    private volatile bool _aborted;

    public override IPEndPoint? PeerEndPoint => _clientEndPoint ??= SocketSetup.Normalize(_client?.RemoteEndPoint);

    public override bool IsAborted => _aborted;

    /// <summary>The unexpected exception that ended the pump, if any (the handler logs it).</summary>
    public override Exception? Failure => pump.Failure;

    public void Begin(Socket client) => _client = client;

    public override void Join(ConnectionGroup group)
    {
        base.Join(group);
        if (!OperatingSystem.IsLinux())
        {
            // Linux hands these down from the listening socket (PortListener.Bind).
            SocketSetup.ConfigureConnection(_client!, group.Route.Config.KeepAlive);
        }

        _onGroupAbort = group.AbortToken.UnsafeRegister(static s => ((SocketConnection)s!).Abort(), this);
    }

    public override async ValueTask<(string? Name, bool Failed)> PeekServerNameAsync(TimeSpan timeout)
    {
        if (_aborted)
        {
            return (null, true);
        }

        using var deadline = new CancellationTokenSource(timeout, transport.Time);
        Volatile.Write(ref _operation, deadline);
        try
        {
            var (name, failed) = await pump.PeekServerNameAsync(_client!, deadline.Token, Group?.AbortToken ?? default).ConfigureAwait(false);
            return (name, failed || _aborted);
        }
        finally
        {
            Volatile.Write(ref _operation, null);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<ProxyHeaderOutcome> ReadProxyHeaderAsync(TimeSpan timeout)
    {
        if (_aborted)
        {
            return ProxyHeaderOutcome.Failed;
        }

        using var deadline = new CancellationTokenSource(timeout, transport.Time);
        Volatile.Write(ref _operation, deadline);
        try
        {
            var outcome = await pump.ReadHeaderAsync(_client!, deadline.Token, Group?.AbortToken ?? default, this).ConfigureAwait(false);
            return _aborted ? ProxyHeaderOutcome.Failed : outcome;
        }
        finally
        {
            Volatile.Write(ref _operation, null);
        }
    }

    /// <summary>For the pump's header read: the bytes received so far, parsed.</summary>
    internal ProxyParseStatus ExamineHeader(in ReadOnlySequence<byte> buffered, out int consumed) =>
        ExamineHeader(buffered.IsSingleSegment ? buffered.FirstSpan : buffered.ToArray(), out consumed);

    /// <summary>For the pump's header read: why it ended without a header.</summary>
    internal void HeaderEnded(string problem) => SetHeaderProblem(problem);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public override async ValueTask<SocketError> ConnectAsync(IPAddress[] addresses, int port, long deadline, KeepAliveConfig keepAlive)
    {
        var time = transport.Time;
        var left = time.GetElapsedTime(time.GetTimestamp(), deadline);
        if (_aborted)
        {
            return SocketError.OperationAborted;
        }

        using var cancel = new CancellationTokenSource(left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1), time);
        Volatile.Write(ref _operation, cancel);
        (Socket? Socket, SocketError Error) result;
        try
        {
            result = await HappyEyeballs.ConnectAsync(addresses, port, time, cancel.Token).ConfigureAwait(false);
        }
        finally
        {
            Volatile.Write(ref _operation, null);
        }

        if (result.Socket is not { } socket)
        {
            return _aborted ? SocketError.OperationAborted : result.Error;
        }

        if (_aborted)
        {
            socket.Dispose();
            return SocketError.OperationAborted;
        }

        try
        {
            SocketSetup.ConfigureConnection(socket, keepAlive);
        }
        catch (SocketException)
        {
            // The target reset right after accepting: as if it had refused.
            socket.Dispose();
            return SocketError.ConnectionReset;
        }

        _target = socket;
        return SocketError.Success;
    }

    public override async ValueTask<PumpResult> PumpAsync(TargetState? counter, TimeSpan? idleTimeout, ProxyProtocolVersion header = ProxyProtocolVersion.None)
    {
        if (header != ProxyProtocolVersion.None)
        {
            pump.SetHeader(WriteHeader(pump.HeaderBuffer, header));
        }

        var group = Group;
        group?.Track(pump);
        try
        {
            return await pump.RunAsync(_client!, _target!, counter, transport.Time).ConfigureAwait(false);
        }
        finally
        {
            group?.Forget(pump);
        }
    }

    protected override bool TryGetSocketAddresses(out ProxyAddresses addresses)
    {
        addresses = default;
        if (PeerEndPoint is not { } peer || _client?.LocalEndPoint is not IPEndPoint local)
        {
            return false;
        }

        addresses = ProxyAddresses.From(peer, local);
        return true;
    }

    public override void Reset()
    {
        if (_client is { } client)
        {
            SocketSetup.Reset(client);
        }

        if (_target is { } target)
        {
            SocketSetup.Reset(target);
        }
    }

    public override void Abort()
    {
        _aborted = true;
        try
        {
            Volatile.Read(ref _operation)?.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The operation ended meanwhile: the flag above stops the next one.
        }

        pump.Abort();
    }

    public override void Release()
    {
        _onGroupAbort.Dispose();
        _onGroupAbort = default;
        _client = null;
        _target = null;
        _clientEndPoint = null;
        ClearHeader();
        _aborted = false;
        Group = null;
        pump.Reset();
        transport.Return(this);
    }
}

using System.Net.Sockets;
using System.Threading.Tasks.Sources;

namespace FProxy.Transport.Linux;

/// <summary>
/// Accepts from a listening socket on one loop; the loop that accepts a connection serves it to
/// the end. accept4 makes the client non-blocking and close-on-exec in the same call and returns
/// its address: no fcntl, no getpeername.
/// </summary>
/// <remarks>
/// Every loop registers the socket, edge-triggered and NOT with EPOLLEXCLUSIVE: an exclusive
/// wake-up goes to one idle loop, and when that loop's accept loop is not waiting (paused at the
/// descriptor budget) the edge is lost for the others, leaving clients queued (seen in
/// PortListenerTests). Waking every idle loop costs one empty accept4 per extra idle loop, and
/// only while loops are idle; busy loops just find the event in their next batch.
/// </remarks>
internal sealed unsafe class EpollAcceptor : IAcceptor, IEpollHandler, IValueTaskSource<AcceptResult>
{
    /// <summary>
    /// Accepts in a row before the loop serves other events: during a burst, connections already
    /// open still get their turn (HAProxy's tune.maxaccept defaults to 64 too).
    /// </summary>
    private const int MaxAcceptsPerTurn = 64;

    private readonly EpollLoop _loop;
    private readonly SafeSocketHandle _handle;
    private readonly int _fd;
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly LoopTimer _delay;
    private readonly byte[]? _local; // The listener's own address when it is not a wildcard: every accepted socket's local address.
    private ManualResetValueTaskSourceCore<AcceptResult> _source;
    private ManualResetValueTaskSourceCore<bool> _delaySource;
    private long _delayTicks;
    private DelayAwaitable? _delayAwaitable;
    private int _slot = -1;
    private bool _waiting;
    private bool _closed;
    private int _inARow;

    /// <summary>Holds a reference on <paramref name="handle"/> until closed, so its number cannot be reused under the loop.</summary>
    public EpollAcceptor(EpollLoop loop, SafeSocketHandle handle)
    {
        _loop = loop;
        _handle = handle;
        var added = false;
        handle.DangerousAddRef(ref added);
        _fd = (int)handle.DangerousGetHandle();
        _local = SpecificAddress(_fd);
        _source.RunContinuationsAsynchronously = false;
        _delaySource.RunContinuationsAsynchronously = false;
        _delay = new LoopTimer(static s => ((EpollAcceptor)s)._delaySource.SetResult(true), this);
        loop.Post(static s => ((EpollAcceptor)s!).Open(), this);
    }

    /// <summary>
    /// The listening socket's address when it is bound to one address (not 0.0.0.0 or ::): a
    /// PROXY protocol header sent for its connections then needs no getsockname per connection.
    /// </summary>
    private static byte[]? SpecificAddress(int fd)
    {
        var local = new byte[SockAddr.MaxSize];
        var length = SockAddr.MaxSize;
        fixed (byte* buffer = local)
        {
            if (Libc.GetSockName(fd, buffer, &length) != 0)
            {
                return null;
            }
        }

        var address = SockAddr.Family(local) == Libc.AfInet ? local.AsSpan(4, 4) : local.AsSpan(8, 16);
        return address.IndexOfAnyExcept((byte)0) < 0 ? null : local;
    }

    public ValueTask<AcceptResult> AcceptAsync()
    {
        if (!_loop.IsCurrent || _slot < 0)
        {
            _waiting = true;
            _loop.Post(static s => ((EpollAcceptor)s!).Retry(), this);
            return new ValueTask<AcceptResult>(this, _source.Version);
        }

        var result = TryAccept();
        return result is { } done ? new ValueTask<AcceptResult>(done) : new ValueTask<AcceptResult>(this, _source.Version);
    }

    public ValueTask<bool> DelayAsync(TimeSpan delay)
    {
        _delayTicks = _loop.Ticks(delay);
        _loop.Post(static s => ((EpollAcceptor)s!).StartDelay(), this);
        return new ValueTask<bool>(_delayAwaitable ??= new DelayAwaitable(this), _delaySource.Version);
    }

    /// <remarks>
    /// The socket's handle is released on the loop, after the last accept4: the runtime's
    /// Socket.Dispose waits (spinning) for that release, so it must never run on the loop itself
    /// before this completes.
    /// </remarks>
    public Task CloseAsync()
    {
        _loop.Post(static s => ((EpollAcceptor)s!).CloseOnLoop(), this);
        return _released.Task;
    }

    void IEpollHandler.OnEvents(int kind, uint events) => Retry();

    private void StartDelay()
    {
        if (_closed)
        {
            _delaySource.SetResult(false);
            return;
        }

        _loop.Schedule(_delay, _loop.Now + _delayTicks);
    }

    private void Open()
    {
        if (_closed)
        {
            return;
        }

        _slot = _loop.Register(this);
        if (_loop.Add(_fd, Libc.EpollIn | Libc.EpollEdge, _slot, 0) != 0)
        {
            // Not a socket any more (closed from outside before we began): accept4 says so below.
            _loop.Unregister(_slot);
            _slot = int.MaxValue;
        }
    }

    /// <summary>The socket became readable, or a turn ended: complete a waiting accept if one is possible now.</summary>
    private void Retry()
    {
        if (!_waiting)
        {
            return;
        }

        _inARow = 0;
        if (TryAccept() is { } done)
        {
            _waiting = false;
            _source.SetResult(done);
        }
    }

    /// <summary>An accept's result, or null (waiting for an event or the next turn).</summary>
    private AcceptResult? TryAccept()
    {
        if (_closed)
        {
            return new AcceptResult(null, SocketError.OperationAborted);
        }

        if (++_inARow > MaxAcceptsPerTurn)
        {
            _waiting = true;
            _loop.Post(static s => ((EpollAcceptor)s!).Retry(), this);
            return null;
        }

        var address = stackalloc byte[SockAddr.MaxSize];
        while (true)
        {
            // After an EMFILE the reserve went to the runtime: any loop takes it back before it
            // accepts again, not only the one that failed (it would use up that headroom).
            if (!DescriptorReserve.TryBeginOpen())
            {
                return new AcceptResult(null, SocketError.TooManyOpenSockets);
            }

            var length = SockAddr.MaxSize;
            var fd = Libc.Accept4(_fd, address, &length, Libc.SockNonBlock | Libc.SockCloExec);
            var errno = fd < 0 ? Libc.Errno : 0;
            DescriptorReserve.EndOpen();

            if (fd >= 0)
            {
                var connection = _loop.FreeConnections.TryPop(out var pooled) ? pooled : new EpollConnection(_loop);
                if (!connection.Begin(fd, new ReadOnlySpan<byte>(address, SockAddr.MaxSize), _local))
                {
                    _loop.FreeConnections.Push(connection);
                    return new AcceptResult(null, SocketError.NoBufferSpaceAvailable);
                }

                return new AcceptResult(connection, SocketError.Success);
            }

            if (errno == Libc.EIntr)
            {
                continue;
            }

            if (errno == Libc.EAgain)
            {
                _inARow = 0;
                _waiting = true;
                return null;
            }

            return new AcceptResult(null, Libc.ToSocketError(errno));
        }
    }

    private void CloseOnLoop()
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        if (_slot >= 0 && _slot != int.MaxValue)
        {
            _loop.Delete(_fd);
            _loop.Unregister(_slot);
        }

        _handle.DangerousRelease();
        _released.TrySetResult();
        if (_delay.IsScheduled)
        {
            _loop.Cancel(_delay);
            _delaySource.SetResult(false);
        }

        if (_waiting)
        {
            _waiting = false;
            _source.SetResult(new AcceptResult(null, SocketError.OperationAborted));
        }
    }

    AcceptResult IValueTaskSource<AcceptResult>.GetResult(short token)
    {
        var result = _source.GetResult(token);
        _source.Reset();
        return result;
    }

    ValueTaskSourceStatus IValueTaskSource<AcceptResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<AcceptResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);

    /// <summary>The delay's awaitable: a second IValueTaskSource on the same acceptor.</summary>
    private sealed class DelayAwaitable(EpollAcceptor owner) : IValueTaskSource<bool>
    {
        public bool GetResult(short token)
        {
            var result = owner._delaySource.GetResult(token);
            owner._delaySource.Reset();
            return result;
        }

        public ValueTaskSourceStatus GetStatus(short token) => owner._delaySource.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            owner._delaySource.OnCompleted(continuation, state, token, flags);
    }
}

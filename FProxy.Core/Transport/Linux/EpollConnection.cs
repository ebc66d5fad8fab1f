using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Tasks.Sources;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.ProxyProtocol;
using FProxy.Routing;

namespace FProxy.Transport.Linux;

/// <summary>
/// A proxied connection on the epoll transport: the client descriptor, the target's (and, while
/// connecting, up to <see cref="MaxAttempts"/> racing attempts), both directions and two deadlines
/// on the loop's timer heap. Pooled per loop and reused; it lives on its loop's thread only, so
/// nothing in it is locked. Each awaitable operation completes as the last step of whatever event,
/// deadline or posted call decided it, because the continuation may release and reuse the object.
/// </summary>
internal sealed unsafe class EpollConnection : TransportConnection, IEpollHandler,
    IValueTaskSource<SocketError>, IValueTaskSource<PumpResult>, IValueTaskSource<(string? Name, bool Failed)>, IValueTaskSource<ProxyHeaderOutcome>
{
    /// <summary>Connect attempts racing at once for one target (RFC 8305 staggering rarely gets past two).</summary>
    internal const int MaxAttempts = 6;

    private const int ClientKind = 0; // Attempts (and the target they become) are kinds 1..MaxAttempts.
    private const uint Interest = Libc.EpollIn | Libc.EpollOut | Libc.EpollRdHup | Libc.EpollEdge;

    /// <summary>
    /// Keepalive options go on the target socket only once a connection has lived this long: four
    /// setsockopt calls that short connections never need (measured: 4 of the 5 setsockopts per
    /// connection in docs/performance.md's syscall table). The first probe comes at most this much later.
    /// </summary>
    private static readonly TimeSpan KeepAliveDelay = TimeSpan.FromSeconds(1);

    private readonly EpollLoop _loop;
    private readonly int _slot;
    private readonly EpollDirection _up;
    private readonly EpollDirection _down;
    private readonly LoopTimer _deadline; // Peek or connect deadline; the idle check while pumping.
    private readonly LoopTimer _second; // The next Happy Eyeballs attempt; keepalive while pumping.
    private readonly int[] _attempts = [-1, -1, -1, -1, -1, -1];
    private readonly byte[] _peer = new byte[SockAddr.MaxSize];
    private byte[]? _local; // The listener's address, shared, when it is a specific one; else null (getsockname).
    private IPEndPoint? _clientEndPoint;
    private int _client = -1;
    private int _target = -1;
    private int _targetKind;
    private Phase _phase;
    private volatile bool _aborted;
    private int _life;
    private long _lastActivity;
    private long _idleTicks;
    private TargetState? _counter;
    private KeepAliveConfig _keepAlive = KeepAliveConfig.Default;

    private IPAddress[] _addresses = [];
    private int _port;
    private long _connectDeadline;
    private TimeSpan _peekTimeout;
    private ProxyProtocolVersion _sendHeader;
    private int _nextAddress;
    private int _inFlight;
    private SocketError _lastError;

    private Decided _decided;
    private SocketError _connectResult;
    private PumpResult _pumpResult;
    private (string? Name, bool Failed) _peekResult;
    private ProxyHeaderOutcome _headerResult;
    private ManualResetValueTaskSourceCore<SocketError> _connectSource;
    private ManualResetValueTaskSourceCore<PumpResult> _pumpSource;
    private ManualResetValueTaskSourceCore<(string? Name, bool Failed)> _peekSource;
    private ManualResetValueTaskSourceCore<ProxyHeaderOutcome> _headerSource;

    public EpollConnection(EpollLoop loop)
    {
        _loop = loop;
        _slot = loop.Register(this);
        _up = new EpollDirection(this, fromClient: true);
        _down = new EpollDirection(this, fromClient: false);
        _deadline = new LoopTimer(static s => ((EpollConnection)s).OnDeadline(), this);
        _second = new LoopTimer(static s => ((EpollConnection)s).OnSecondTimer(), this);

        // Continuations run where the operation completes: on the loop, inline.
        _connectSource.RunContinuationsAsynchronously = false;
        _pumpSource.RunContinuationsAsynchronously = false;
        _peekSource.RunContinuationsAsynchronously = false;
        _headerSource.RunContinuationsAsynchronously = false;
    }

    private enum Phase
    {
        Idle,
        Accepted,
        ReadingHeader,
        Peeking,
        Connecting,
        Connected,
        Pumping,
        Finished,
    }

    private enum Decided
    {
        None,
        Header,
        Peek,
        Connect,
        Pump,
    }

    public override IPEndPoint? PeerEndPoint => _clientEndPoint ??= SockAddr.Read(_peer);

    public override bool IsAborted => _aborted;

    /// <summary>Neighbours in the loop's list of open connections.</summary>
    internal EpollConnection? Previous { get; set; }

    /// <summary>Neighbours in the loop's list of open connections.</summary>
    internal EpollConnection? Next { get; set; }

    internal MemoryPool<byte> Blocks => _loop.Blocks;

    internal PipePool Pipes => _loop.Pipes;

    internal bool SpliceEnabled => _loop.SpliceEnabled;

    /// <summary>The pump has ended (its sockets are closed or reset).</summary>
    internal bool Ended => _phase == Phase.Finished;

    /// <summary>
    /// Starts a life for the accepted <paramref name="fd"/>; false when it cannot be watched (the
    /// fd is closed). <paramref name="local"/> is the listener's address when it is a specific one.
    /// </summary>
    public bool Begin(int fd, ReadOnlySpan<byte> peer, byte[]? local = null)
    {
        peer.CopyTo(_peer);
        _local = local;
        _clientEndPoint = null;
        _client = fd;
        _up.From = fd;
        _phase = Phase.Accepted;
        if (_loop.Add(fd, Interest, _slot, ClientKind) != 0)
        {
            Libc.CloseWithReset(fd);
            _client = -1;
            _phase = Phase.Idle;
            return false;
        }

        Next = _loop.Live;
        if (Next is not null)
        {
            Next.Previous = this;
        }

        _loop.Live = this;
        return true;
    }

    public override ValueTask<(string? Name, bool Failed)> PeekServerNameAsync(TimeSpan timeout)
    {
        _peekTimeout = timeout;
        if (!_loop.IsCurrent)
        {
            _loop.Post(static s => ((EpollConnection)s!).RunPosted(static c => c.StartPeek()), this);
            return new ValueTask<(string?, bool)>(this, _peekSource.Version);
        }

        StartPeek();
        if (_decided == Decided.Peek)
        {
            _decided = Decided.None;
            return new ValueTask<(string?, bool)>(_peekResult);
        }

        return new ValueTask<(string?, bool)>(this, _peekSource.Version);
    }

    public override ValueTask<ProxyHeaderOutcome> ReadProxyHeaderAsync(TimeSpan timeout)
    {
        _peekTimeout = timeout;
        if (!_loop.IsCurrent)
        {
            _loop.Post(static s => ((EpollConnection)s!).RunPosted(static c => c.StartHeader()), this);
            return new ValueTask<ProxyHeaderOutcome>(this, _headerSource.Version);
        }

        StartHeader();
        if (_decided == Decided.Header)
        {
            _decided = Decided.None;
            return new ValueTask<ProxyHeaderOutcome>(_headerResult);
        }

        return new ValueTask<ProxyHeaderOutcome>(this, _headerSource.Version);
    }

    public override ValueTask<SocketError> ConnectAsync(IPAddress[] addresses, int port, long deadline, KeepAliveConfig keepAlive)
    {
        _addresses = addresses;
        _port = port;
        _connectDeadline = deadline;
        _keepAlive = keepAlive;
        if (!_loop.IsCurrent)
        {
            _loop.Post(static s => ((EpollConnection)s!).RunPosted(static c => c.StartConnect()), this);
            return new ValueTask<SocketError>(this, _connectSource.Version);
        }

        StartConnect();
        if (_decided == Decided.Connect)
        {
            _decided = Decided.None;
            return new ValueTask<SocketError>(_connectResult);
        }

        return new ValueTask<SocketError>(this, _connectSource.Version);
    }

    public override ValueTask<PumpResult> PumpAsync(TargetState? counter, TimeSpan? idleTimeout, ProxyProtocolVersion header = ProxyProtocolVersion.None)
    {
        _counter = counter;
        _sendHeader = header;
        _idleTicks = idleTimeout is { } idle ? _loop.Ticks(idle) : 0;
        if (!_loop.IsCurrent)
        {
            _loop.Post(static s => ((EpollConnection)s!).RunPosted(static c => c.StartPump()), this);
            return new ValueTask<PumpResult>(this, _pumpSource.Version);
        }

        StartPump();
        if (_decided == Decided.Pump)
        {
            _decided = Decided.None;
            return new ValueTask<PumpResult>(_pumpResult);
        }

        return new ValueTask<PumpResult>(this, _pumpSource.Version);
    }

    public override void Reset()
    {
        if (!_loop.IsCurrent)
        {
            _loop.Post(static s => ((EpollConnection)s!).Reset(), this);
            return;
        }

        CloseAttempts();
        CancelTimers();
        ResetSockets();
        _phase = Phase.Finished;
    }

    public override void Abort()
    {
        _aborted = true;
        if (_loop.IsCurrent)
        {
            AbortOnLoop();
        }
        else
        {
            // The connection may have ended and been reused by the time this runs: only its own life is aborted.
            _loop.Post(static s => ((AbortRequest)s!).Run(), new AbortRequest(this, Volatile.Read(ref _life)));
        }
    }

    public override void Release()
    {
        if (!_loop.IsCurrent)
        {
            _loop.Post(static s => ((EpollConnection)s!).Release(), this);
            return;
        }

        CloseAttempts();
        CancelTimers();
        ResetSockets(); // Only if an operation failed unexpectedly: normally both are closed by now.
        _up.Reset();
        _down.Reset();
        _counter = null;
        _clientEndPoint = null;
        _sendHeader = ProxyProtocolVersion.None;
        ClearHeader();
        _aborted = false;
        _decided = Decided.None;
        _phase = Phase.Idle;
        _targetKind = 0;
        _addresses = [];
        Group = null;
        Volatile.Write(ref _life, _life + 1);
        var kept = _loop.FreeConnections.Count < EpollLoop.MaxFreeConnections;
        if (kept)
        {
            _loop.Renew(_slot);
        }
        else
        {
            // Beyond what the pool keeps: the connection goes to the GC with its slot freed, so a
            // spike of thousands does not hold their memory for the life of the process.
            _loop.Unregister(_slot);
        }

        if (Previous is not null)
        {
            Previous.Next = Next;
        }
        else if (ReferenceEquals(_loop.Live, this))
        {
            _loop.Live = Next;
        }

        if (Next is not null)
        {
            Next.Previous = Previous;
        }

        Previous = Next = null;
        if (kept)
        {
            _loop.FreeConnections.Push(this);
        }
    }

    /// <summary>Aborts on the loop's thread (drains, shutdown, <see cref="Abort"/>).</summary>
    internal void AbortOnLoop()
    {
        _aborted = true;
        switch (_phase)
        {
            case Phase.ReadingHeader:
                FinishHeader(ProxyHeaderOutcome.Failed);
                break;
            case Phase.Peeking:
                FinishPeek(null, failed: true);
                break;
            case Phase.Connecting:
                FinishConnect(SocketError.OperationAborted);
                break;
            case Phase.Pumping:
                Fail(PumpEnd.Aborted);
                break;
        }

        // Between operations (Accepted, Connected), the next one sees the flag and fails at once.
        CompleteDecided();
    }

    void IEpollHandler.OnEvents(int kind, uint events)
    {
        if (kind == ClientKind)
        {
            if (_client < 0)
            {
                return;
            }

            Apply(_up, _down, events);
            if (_phase is Phase.Peeking or Phase.ReadingHeader)
            {
                ContinuePeek();
            }
            else if (_phase == Phase.Pumping)
            {
                RunPump();
            }
        }
        else if (_phase == Phase.Connecting)
        {
            OnAttempt(kind - 1, events);
        }
        else if (kind == _targetKind && _target >= 0)
        {
            Apply(_down, _up, events);
            if (_phase == Phase.Pumping)
            {
                RunPump();
            }
        }

        CompleteDecided();
    }

    internal void Touch() => _lastActivity = _loop.Now;

    /// <summary>Bytes went out: counted now (not when received), so an aborted connection never over-reports.</summary>
    internal void OnSent(bool fromClient, nint count)
    {
        _counter?.AddBytes(fromClient, count);
        _lastActivity = _loop.Now;
    }

    /// <summary>A direction passed its FIN on; when both have, the connection is over.</summary>
    internal void OnDirectionDone(EpollDirection direction)
    {
        var other = ReferenceEquals(direction, _up) ? _down : _up;
        if (!other.Done)
        {
            _ = Libc.Shutdown(direction.To, Libc.ShutWrite); // Half-close; a failure shows on the other direction.
            return;
        }

        // The second FIN: close() sends it, one shutdown saved.
        _ = Libc.Close(_client);
        _ = Libc.Close(_target);
        _client = _target = -1;
        End(PumpEnd.Closed);
    }

    /// <summary>One side failed: reset both and end.</summary>
    internal void Fail(PumpEnd reason)
    {
        if (_phase != Phase.Pumping)
        {
            return;
        }

        ResetSockets();
        End(reason);
    }

    private void StartPeek()
    {
        if (_aborted)
        {
            _peekResult = (null, true);
            _decided = Decided.Peek;
            return;
        }

        _phase = Phase.Peeking;
        if (_up.Peeked > 0)
        {
            // Bytes that came with a PROXY protocol header: they may hold the whole ClientHello.
            var parsed = ClientHelloParser.TryReadServerName(_up.Buffered, out var name);
            if (parsed != SniParseResult.NeedMoreData)
            {
                _phase = Phase.Accepted;
                _peekResult = (parsed == SniParseResult.Found ? name : null, false);
                _decided = Decided.Peek;
                return;
            }
        }

        _loop.Schedule(_deadline, _loop.Now + _loop.Ticks(_peekTimeout));
        ContinuePeek();
    }

    private void StartHeader()
    {
        if (_aborted)
        {
            _headerResult = ProxyHeaderOutcome.Failed;
            _decided = Decided.Header;
            return;
        }

        _phase = Phase.ReadingHeader;
        _loop.Schedule(_deadline, _loop.Now + _loop.Ticks(_peekTimeout));
        ContinuePeek();
    }

    /// <summary>Reads the client's first bytes for whichever peek is under way: the PROXY protocol header, or the SNI.</summary>
    private void ContinuePeek()
    {
        while (_phase is Phase.Peeking or Phase.ReadingHeader)
        {
            var step = _up.PeekMore(out var buffered);
            if (_phase == Phase.ReadingHeader)
            {
                if (!ContinueHeader(step, buffered))
                {
                    return;
                }

                continue;
            }

            switch (step)
            {
                case PeekStep.Wait:
                    return;
                case PeekStep.Data:
                    var parsed = ClientHelloParser.TryReadServerName(buffered, out var name);
                    if (parsed != SniParseResult.NeedMoreData)
                    {
                        FinishPeek(parsed == SniParseResult.Found ? name : null, failed: false);
                    }

                    break;
                case PeekStep.Failed:
                    FinishPeek(null, failed: true);
                    break;
                default: // Eof (passed on after the connect), Full.
                    FinishPeek(null, failed: false);
                    break;
            }
        }
    }

    /// <summary>One step of the header read; false when it waits for the next event.</summary>
    private bool ContinueHeader(PeekStep step, ReadOnlySequence<byte> buffered)
    {
        switch (step)
        {
            case PeekStep.Wait:
                return false;
            case PeekStep.Data:
                // One block holds the largest header (16 + 4,096 bytes): the bytes are contiguous.
                switch (ExamineHeader(buffered.FirstSpan, out var consumed))
                {
                    case ProxyParseStatus.Done:
                        _up.Consume(consumed);
                        FinishHeader(ProxyHeaderOutcome.Received);
                        break;
                    case ProxyParseStatus.Invalid:
                        FinishHeader(ProxyHeaderOutcome.Malformed);
                        break;
                }

                break;
            case PeekStep.Failed:
                FinishHeader(ProxyHeaderOutcome.Failed);
                break;
            default:
                SetHeaderProblem(step == PeekStep.Eof ? "the client closed before the end of its header" : "header longer than a buffer");
                FinishHeader(ProxyHeaderOutcome.Malformed);
                break;
        }

        return true;
    }

    private void FinishHeader(ProxyHeaderOutcome outcome)
    {
        _loop.Cancel(_deadline);
        _phase = Phase.Accepted;
        _headerResult = outcome;
        _decided = Decided.Header;
    }

    private void FinishPeek(string? name, bool failed)
    {
        _loop.Cancel(_deadline);
        _phase = Phase.Accepted;
        _peekResult = (name, failed);
        _decided = Decided.Peek;
    }

    private void StartConnect()
    {
        if (_aborted)
        {
            _connectResult = SocketError.OperationAborted;
            _decided = Decided.Connect;
            return;
        }

        _phase = Phase.Connecting;
        _nextAddress = 0;
        _inFlight = 0;
        _lastError = SocketError.HostUnreachable;
        _loop.Schedule(_deadline, _connectDeadline);
        StartNext();
        if (_phase == Phase.Connecting && _nextAddress < _addresses.Length)
        {
            _loop.Schedule(_second, _loop.Now + _loop.Ticks(HappyEyeballs.Stagger));
        }
    }

    /// <summary>Starts attempts in address order until one is in flight, or finishes when none is left.</summary>
    private void StartNext()
    {
        while (_nextAddress < _addresses.Length && _phase == Phase.Connecting)
        {
            var started = TryStartAttempt(_addresses[_nextAddress]);
            if (started is null)
            {
                return; // Every attempt slot is busy: the next stagger or failure tries again.
            }

            _nextAddress++;
            if (started.Value)
            {
                return;
            }
        }

        if (_inFlight == 0 && _phase == Phase.Connecting)
        {
            FinishConnect(_lastError);
        }
    }

    /// <summary>True when the attempt is in flight, false when it failed at once, null when no slot is free.</summary>
    private bool? TryStartAttempt(IPAddress address)
    {
        var index = Array.IndexOf(_attempts, -1);
        if (index < 0)
        {
            return null;
        }

        var family = address.AddressFamily == AddressFamily.InterNetworkV6 ? Libc.AfInet6 : Libc.AfInet;
        if (!DescriptorReserve.TryBeginOpen())
        {
            _lastError = SocketError.TooManyOpenSockets; // The reserve is the runtime's now.
            return false;
        }

        var fd = Libc.Socket(family, Libc.SockStream | Libc.SockNonBlock | Libc.SockCloExec, 0);
        var errno = fd < 0 ? Libc.Errno : 0;
        DescriptorReserve.EndOpen();
        if (fd < 0)
        {
            _lastError = Libc.ToSocketError(errno); // EMFILE: a connect failure like any other.
            return false;
        }

        _ = Libc.SetInt(fd, Libc.IpProtoTcp, Libc.TcpNoDelay, 1);
        var sockaddr = stackalloc byte[SockAddr.MaxSize];
        var length = SockAddr.Write(address, _port, new Span<byte>(sockaddr, SockAddr.MaxSize));
        if (Libc.Connect(fd, sockaddr, length) != 0 && Libc.Errno != Libc.EInProgress)
        {
            _lastError = Libc.ToSocketError(Libc.Errno);
            _ = Libc.Close(fd);
            return false;
        }

        // Registered after connect: its OUT edge (connected) or ERR (refused) arrives either way.
        if (_loop.Add(fd, Interest, _slot, index + 1) != 0)
        {
            _lastError = SocketError.NoBufferSpaceAvailable;
            _ = Libc.Close(fd);
            return false;
        }

        _attempts[index] = fd;
        _inFlight++;
        return true;
    }

    private void OnAttempt(int index, uint events)
    {
        var fd = _attempts[index];
        if (fd < 0)
        {
            return;
        }

        if ((events & (Libc.EpollErr | Libc.EpollHup)) != 0)
        {
            _lastError = Libc.PendingError(fd);
            _ = Libc.Close(fd);
            _attempts[index] = -1;
            _inFlight--;
            StartNext(); // A failure starts the next address at once.
            return;
        }

        if ((events & Libc.EpollOut) == 0)
        {
            return;
        }

        _attempts[index] = -1;
        _inFlight--;
        _target = fd;
        _targetKind = index + 1;
        _down.Readable = _down.PeerClosed = false;
        Apply(_down, _up, events); // The target may have spoken first (and even closed).
        FinishConnect(SocketError.Success);
    }

    private void FinishConnect(SocketError result)
    {
        CloseAttempts();
        _loop.Cancel(_deadline);
        _loop.Cancel(_second);
        _phase = result == SocketError.Success ? Phase.Connected : Phase.Accepted;
        _connectResult = result;
        _decided = Decided.Connect;
    }

    private void StartPump()
    {
        if (_aborted || _target < 0 || _client < 0)
        {
            ResetSockets();
            _phase = Phase.Pumping;
            End(PumpEnd.Aborted);
            return;
        }

        _phase = Phase.Pumping;
        _up.From = _client;
        _up.To = _target;
        _down.From = _target;
        _down.To = _client;

        // Fresh sockets take bytes; a refused send clears the flag until the next OUT edge.
        _up.Writable = _down.Writable = true;
        if (_sendHeader != ProxyProtocolVersion.None)
        {
            // Goes out in the first send below: with the client's bytes when they are waiting
            // (peeked, or readable), else alone at once, for targets that speak first.
            var buffer = _up.PrefixBuffer;
            _up.SetPrefixLength(WriteHeader(buffer, _sendHeader));
        }

        Touch();
        if (_idleTicks > 0)
        {
            _loop.Schedule(_deadline, _loop.Now + _idleTicks);
        }

        if (_keepAlive.Enabled)
        {
            _loop.Schedule(_second, _loop.Now + _loop.Ticks(KeepAliveDelay));
        }

        RunPump();
    }

    private void RunPump()
    {
        _up.Pump();
        if (_phase == Phase.Pumping)
        {
            _down.Pump();
        }
    }

    private void OnDeadline()
    {
        switch (_phase)
        {
            case Phase.ReadingHeader:
                SetHeaderProblem("no complete header within ProxyProtocolTimeout");
                FinishHeader(ProxyHeaderOutcome.TimedOut);
                break;
            case Phase.Peeking:
                FinishPeek(null, failed: false); // A silent client: decide without a name.
                break;
            case Phase.Connecting:
                FinishConnect(SocketError.TimedOut);
                break;
            case Phase.Pumping:
                CheckIdle();
                break;
        }

        CompleteDecided();
    }

    private void OnSecondTimer()
    {
        if (_phase == Phase.Connecting)
        {
            StartNext(); // No answer within the stagger: the next address races alongside.
            if (_phase == Phase.Connecting && _nextAddress < _addresses.Length)
            {
                _loop.Schedule(_second, _loop.Now + _loop.Ticks(HappyEyeballs.Stagger));
            }

            CompleteDecided();
        }
        else if (_phase == Phase.Pumping && _keepAlive.Enabled)
        {
            _ = Libc.SetInt(_target, Libc.SolSocket, Libc.SoKeepAlive, 1);
            _ = Libc.SetInt(_target, Libc.IpProtoTcp, Libc.TcpKeepIdle, Seconds(_keepAlive.Idle));
            _ = Libc.SetInt(_target, Libc.IpProtoTcp, Libc.TcpKeepInterval, Seconds(_keepAlive.Interval));
            _ = Libc.SetInt(_target, Libc.IpProtoTcp, Libc.TcpKeepCount, _keepAlive.Count);
        }
    }

    /// <summary>
    /// The idle deadline passed: close if nothing moved since, else move the deadline (timers are
    /// moved lazily, here, never on I/O). Bytes waiting for a reader that still takes some are
    /// activity; an idle close with bytes unsent resets, since a FIN would make the cut stream
    /// look complete.
    /// </summary>
    private void CheckIdle()
    {
        if (_up.SendMadeProgress() | _down.SendMadeProgress())
        {
            Touch();
        }

        var due = _lastActivity + _idleTicks;
        if (due > _loop.Now)
        {
            _loop.Schedule(_deadline, due);
            return;
        }

        if (_up.HasPending || _down.HasPending)
        {
            ResetSockets();
        }
        else
        {
            _ = Libc.Close(_client);
            _ = Libc.Close(_target);
            _client = _target = -1;
        }

        End(PumpEnd.IdleTimeout);
    }

    private void End(PumpEnd reason)
    {
        _pumpResult = new PumpResult(_up.Sent, _down.Sent, reason);
        _phase = Phase.Finished;
        CancelTimers();
        _up.Reset();
        _down.Reset();
        _decided = Decided.Pump;
    }

    private static void Apply(EpollDirection from, EpollDirection to, uint events)
    {
        if ((events & (Libc.EpollIn | Libc.EpollErr | Libc.EpollHup | Libc.EpollRdHup)) != 0)
        {
            from.Readable = true;
        }

        if ((events & Libc.EpollRdHup) != 0)
        {
            from.PeerClosed = true;
        }

        if ((events & (Libc.EpollOut | Libc.EpollErr | Libc.EpollHup)) != 0)
        {
            to.Writable = true;
        }
    }

    private void CloseAttempts()
    {
        for (var i = 0; i < _attempts.Length; i++)
        {
            if (_attempts[i] >= 0)
            {
                _ = Libc.Close(_attempts[i]);
                _attempts[i] = -1;
            }
        }

        _inFlight = 0;
    }

    private void CancelTimers()
    {
        _loop.Cancel(_deadline);
        _loop.Cancel(_second);
    }

    private void ResetSockets()
    {
        if (_client >= 0)
        {
            Libc.CloseWithReset(_client);
            _client = -1;
        }

        if (_target >= 0)
        {
            Libc.CloseWithReset(_target);
            _target = -1;
        }
    }

    /// <summary>Completes the operation an event, deadline or call decided: always the last step, see the class remarks.</summary>
    private void CompleteDecided()
    {
        var decided = _decided;
        _decided = Decided.None;
        switch (decided)
        {
            case Decided.Header:
                _headerSource.SetResult(_headerResult);
                break;
            case Decided.Peek:
                _peekSource.SetResult(_peekResult);
                break;
            case Decided.Connect:
                _connectSource.SetResult(_connectResult);
                break;
            case Decided.Pump:
                _pumpSource.SetResult(_pumpResult);
                break;
        }
    }

    private void RunPosted(Action<EpollConnection> start)
    {
        start(this);
        CompleteDecided();
    }

    private static int Seconds(TimeSpan value) => Math.Max(1, (int)Math.Ceiling(value.TotalSeconds));

    SocketError IValueTaskSource<SocketError>.GetResult(short token)
    {
        var result = _connectSource.GetResult(token);
        _connectSource.Reset();
        return result;
    }

    ValueTaskSourceStatus IValueTaskSource<SocketError>.GetStatus(short token) => _connectSource.GetStatus(token);

    void IValueTaskSource<SocketError>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _connectSource.OnCompleted(continuation, state, token, flags);

    PumpResult IValueTaskSource<PumpResult>.GetResult(short token)
    {
        var result = _pumpSource.GetResult(token);
        _pumpSource.Reset();
        return result;
    }

    ValueTaskSourceStatus IValueTaskSource<PumpResult>.GetStatus(short token) => _pumpSource.GetStatus(token);

    void IValueTaskSource<PumpResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _pumpSource.OnCompleted(continuation, state, token, flags);

    (string? Name, bool Failed) IValueTaskSource<(string? Name, bool Failed)>.GetResult(short token)
    {
        var result = _peekSource.GetResult(token);
        _peekSource.Reset();
        return result;
    }

    ValueTaskSourceStatus IValueTaskSource<(string? Name, bool Failed)>.GetStatus(short token) => _peekSource.GetStatus(token);

    void IValueTaskSource<(string? Name, bool Failed)>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _peekSource.OnCompleted(continuation, state, token, flags);

    ProxyHeaderOutcome IValueTaskSource<ProxyHeaderOutcome>.GetResult(short token)
    {
        var result = _headerSource.GetResult(token);
        _headerSource.Reset();
        return result;
    }

    ValueTaskSourceStatus IValueTaskSource<ProxyHeaderOutcome>.GetStatus(short token) => _headerSource.GetStatus(token);

    void IValueTaskSource<ProxyHeaderOutcome>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _headerSource.OnCompleted(continuation, state, token, flags);

    /// <summary>The socket's peer (from accept4) and local address (getsockname), as a header sends them.</summary>
    protected override bool TryGetSocketAddresses(out ProxyAddresses addresses)
    {
        if (_local is not null)
        {
            return ProxyAddresses.TryFromSockAddrs(_peer, _local, out addresses);
        }

        var local = stackalloc byte[SockAddr.MaxSize];
        var length = SockAddr.MaxSize;
        if (_client < 0 || Libc.GetSockName(_client, local, &length) != 0)
        {
            addresses = default;
            return false;
        }

        return ProxyAddresses.TryFromSockAddrs(_peer, new ReadOnlySpan<byte>(local, SockAddr.MaxSize), out addresses);
    }

    private sealed class AbortRequest(EpollConnection connection, int life)
    {
        public void Run()
        {
            if (Volatile.Read(ref connection._life) == life)
            {
                connection.AbortOnLoop();
            }
        }
    }
}

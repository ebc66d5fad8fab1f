using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace FProxy.Transport;

/// <summary>
/// Moves bytes both ways between a client and a target socket until both directions have ended
/// (FIN each way) or one side failed, in which case both are reset. Reusable: a pooled pump keeps
/// its pipes and socket operations across connections.
/// </summary>
internal sealed class DuplexPump
{
    private readonly PumpDirection _upstream;
    private readonly PumpDirection _downstream;
    private Socket? _client;
    private Socket? _target;
    private int _end = -1;
    private int _sendsDone;
    private long _lastActivity;

    public DuplexPump(PipeOptions pipeOptions)
    {
        _upstream = new PumpDirection(this, fromClient: true, pipeOptions);
        _downstream = new PumpDirection(this, fromClient: false, pipeOptions);
    }

    public DuplexPump(MemoryPool<byte> pool)
        : this(CreatePipeOptions(pool))
    {
    }

    /// <summary>Ended otherwise than by a FIN each way (reset, abort, idle close): nothing more is sent.</summary>
    public bool IsAborted => Volatile.Read(ref _end) > (int)PumpEnd.Closed;

    /// <summary>
    /// Pipe settings for the data path. Inline schedulers: a flush runs the sender in the same
    /// call chain, which halved CPU per connection in bench/compare.sh (sockets transport); it
    /// also means nothing on this path may block. 64 KiB in flight per direction before the
    /// receive loop pauses matches one loopback socket buffer's worth.
    /// </summary>
    public static PipeOptions CreatePipeOptions(MemoryPool<byte> pool) => new(
        pool: pool,
        readerScheduler: PipeScheduler.Inline,
        writerScheduler: PipeScheduler.Inline,
        pauseWriterThreshold: 64 * 1024,
        resumeWriterThreshold: 32 * 1024,
        minimumSegmentSize: pool.MaxBufferSize,
        useSynchronizationContext: false);

    /// <summary>
    /// When a byte last moved either way (<see cref="TimeProvider.GetTimestamp"/> units), for idle
    /// timeouts; 0 from <see cref="Reset"/> until the next connection stamps it.
    /// </summary>
    public long LastActivity => Volatile.Read(ref _lastActivity);

    /// <summary>
    /// Runs until the connection is over. Closes (or resets) both sockets before it returns.
    /// Bytes are counted, on <paramref name="counter"/> and in the result, once they are sent on
    /// (handed to the kernel), so bytes received and never forwarded do not count;
    /// <paramref name="time"/> stamps <see cref="LastActivity"/>.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<PumpResult> RunAsync(Socket client, Socket target, Balancing.TargetState? counter = null, TimeProvider? time = null)
    {
        _client = client;
        _target = target;
        Time = time ?? TimeProvider.System;
        Counter = counter;
        Touch();
        if (IsAborted)
        {
            // Aborted before it began (a drain deadline raced the connect): reset, do not pump.
            SocketSetup.Reset(client);
            SocketSetup.Reset(target);
            _client = null;
            _target = null;
            return new PumpResult(0, 0, PumpEnd.Aborted);
        }

        _sendsDone = 0;
        _upstream.Start(client, target);
        _downstream.Start(target, client);

        var up = _upstream.ReceiveLoopAsync();
        var upSend = _upstream.SendLoopAsync();
        var down = _downstream.ReceiveLoopAsync();
        var downSend = _downstream.SendLoopAsync();
        await up.ConfigureAwait(false);
        await upSend.ConfigureAwait(false);
        await down.ConfigureAwait(false);
        await downSend.ConfigureAwait(false);

        var end = (PumpEnd)Math.Max(Volatile.Read(ref _end), (int)PumpEnd.Closed);
        if (end is PumpEnd.Closed or PumpEnd.IdleTimeout)
        {
            client.Dispose();
            target.Dispose();
        }

        var result = new PumpResult(_upstream.Sent, _downstream.Sent, end);
        _client = null;
        _target = null;
        return result;
    }

    /// <summary>
    /// Before <see cref="RunAsync"/>: reads the client's TLS server name by peeking the first
    /// bytes through the upstream pipe (they reach the target later, unchanged).
    /// </summary>
    public ValueTask<(string? Name, bool Failed)> PeekServerNameAsync(Socket client, CancellationToken deadline, CancellationToken abort) =>
        _upstream.PeekServerNameAsync(client, deadline, abort);

    /// <summary>Before <see cref="RunAsync"/>: reads and consumes the client's PROXY protocol header through the upstream pipe.</summary>
    public ValueTask<ProxyHeaderOutcome> ReadHeaderAsync(Socket client, CancellationToken deadline, CancellationToken abort, Sockets.SocketConnection connection) =>
        _upstream.ReadHeaderAsync(client, deadline, abort, connection);

    /// <summary>Room for a PROXY protocol header the target gets first.</summary>
    public Span<byte> HeaderBuffer => _upstream.PrefixBuffer;

    /// <summary>The target gets the first <paramref name="length"/> bytes of <see cref="HeaderBuffer"/> first.</summary>
    public void SetHeader(int length) => _upstream.SetPrefixLength(length);

    /// <summary>Resets both sockets (drain deadline passed, or shutdown). Safe from any thread, any time.</summary>
    public void Abort() => End(PumpEnd.Aborted);

    /// <summary>
    /// Ends an idle connection: with a FIN both ways when everything received went out, with
    /// resets when some of it did not (a FIN would make the cut stream look complete). Safe from
    /// any thread, any time.
    /// </summary>
    public void CloseIdle() => End(PumpEnd.IdleTimeout);

    /// <summary>
    /// Whether no byte moved either way for <paramref name="timeout"/> before <paramref name="now"/>
    /// (<see cref="Time"/> units). A send its reader is still taking bytes from is activity, however
    /// long it stays pending. For the idle sweep only: one caller at a time.
    /// </summary>
    public bool IsIdle(long now, TimeSpan timeout)
    {
        // Both directions are asked, so each keeps its own progress mark current.
        if (_upstream.SendMadeProgress() | _downstream.SendMadeProgress())
        {
            Touch();
            return false;
        }

        return Time.GetElapsedTime(LastActivity, now) >= timeout;
    }

    /// <summary>Where bytes are counted (the connection's target), if anywhere.</summary>
    internal Balancing.TargetState? Counter { get; private set; }

    internal TimeProvider Time { get; private set; } = TimeProvider.System;

    /// <summary>A byte moved: the connection is not idle.</summary>
    internal void Touch() => Volatile.Write(ref _lastActivity, Time.GetTimestamp());

    /// <summary>Stamps activity now on <paramref name="time"/>'s clock, before the idle sweep can see the pump.</summary>
    internal void Stamp(TimeProvider time)
    {
        Time = time;
        Touch();
    }

    /// <summary>Readies the pump for another connection. Only after <see cref="RunAsync"/> returned.</summary>
    public void Reset()
    {
        _end = -1;
        Volatile.Write(ref _lastActivity, 0); // The next connection is judged by its own stamps only.
        Counter = null;
        Failure = null;
        _upstream.Reset();
        _downstream.Reset();
    }

    /// <summary>The unexpected exception that ended the last run, if any (the handler logs it).</summary>
    public Exception? Failure { get; private set; }

    /// <summary>A direction forwarded its FIN's data; returns how many directions have.</summary>
    internal int OnSendDone()
    {
        var done = Interlocked.Increment(ref _sendsDone);
        if (done == 2)
        {
            // Both directions ended gracefully: the connection is over, and an abort that comes
            // before RunAsync has closed the sockets (a drain deadline, shutdown) must not turn
            // the FINs into resets.
            Interlocked.CompareExchange(ref _end, (int)PumpEnd.Closed, -1);
        }

        return done;
    }

    /// <summary>A send loop is left with bytes it will not send, because the connection already ended.</summary>
    internal void OnUnsent() => End(PumpEnd.Aborted);

    internal void OnLoopFailed(Exception exception)
    {
        Failure ??= exception;
        End(PumpEnd.Aborted);
    }

    internal void OnReceiveFailed(bool fromClient) => End(fromClient ? PumpEnd.ClientReset : PumpEnd.TargetReset);

    // Sending from the client means sending to the target: it is the target that failed.
    internal void OnSendFailed(bool fromClient) => End(fromClient ? PumpEnd.TargetReset : PumpEnd.ClientReset);

    private void End(PumpEnd reason)
    {
        var ended = Interlocked.CompareExchange(ref _end, (int)reason, -1);
        if (ended != -1)
        {
            if (ended == (int)PumpEnd.IdleTimeout && reason != PumpEnd.IdleTimeout)
            {
                // Bytes arrived as the idle close began, or a send it cut short failed: what the
                // peers were sent is not the whole stream, so the FINs must be followed by resets.
                ResetBoth();
            }

            return;
        }

        // Read after the exchange above (a full fence): bytes received after this point find the
        // pump ended when they reach the send loop, which resets (OnUnsent).
        if (reason == PumpEnd.IdleTimeout && !_upstream.HasUnsent && !_downstream.HasUnsent)
        {
            // Nothing is in flight: shut both sockets down, so both peers see a FIN, not a reset
            // (closing a socket with a receive pending would reset it). The shutdown ends the
            // pending receives with 0 bytes; RunAsync then closes the sockets.
            SocketSetup.TryShutdownBoth(_client);
            SocketSetup.TryShutdownBoth(_target);
            return;
        }

        ResetBoth();
    }

    private void ResetBoth()
    {
        // A reset on one side resets the other; disposing also wakes every pending operation.
        if (_client is { } client)
        {
            SocketSetup.Reset(client);
        }

        if (_target is { } target)
        {
            SocketSetup.Reset(target);
        }
    }
}

using System.IO.Pipelines;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using FProxy.Routing;

namespace FProxy.Transport;

/// <summary>
/// One direction of a proxied connection: socket -> pipe -> socket. The receive loop waits with a
/// zero-byte receive before it asks the pipe for memory, so an idle direction holds no buffer; the
/// pipe's thresholds stop the receive loop when the sender falls behind (backpressure). A FIN is
/// passed on as Shutdown(Send) on the other socket, independently of the other direction.
/// </summary>
internal sealed class PumpDirection
{
    private readonly Pipe _pipe;
    private readonly SocketOperation _receive = new();
    private readonly DuplexPump _owner;
    private readonly bool _fromClient;
    private Socket _from = null!;
    private Socket _to = null!;
    private bool _receiveEnded;
    private long _received;
    private long _sent;
    private int _sendPending;
    private long _ackedSeen; // The idle sweep's: the peer's acknowledged bytes when it last looked.
    private byte[]? _prefix; // A PROXY protocol header to send first; kept for the pooled pump's next connections.
    private int _prefixLength;

    public PumpDirection(DuplexPump owner, bool fromClient, PipeOptions options)
    {
        _owner = owner;
        _fromClient = fromClient;
        _pipe = new Pipe(options);
    }

    /// <summary>Bytes sent on: handed to the kernel for the other socket.</summary>
    public long Sent => Volatile.Read(ref _sent);

    /// <summary>Some of what was received has not been handed to the kernel yet (it is in the pipe, or in a send still pending).</summary>
    public bool HasUnsent => Volatile.Read(ref _received) != Sent;

    /// <summary>
    /// For the idle sweep: whether a send is pending and its reader took bytes since the sweep
    /// last looked. A slow reader can keep one send pending for longer than the IdleTimeout while
    /// bytes move all along; one that stopped reading moves none, and is idle. Where the kernel
    /// does not say what the peer took, any pending send counts as activity.
    /// </summary>
    public bool SendMadeProgress()
    {
        if (Volatile.Read(ref _sendPending) == 0)
        {
            return false;
        }

        if (!SocketSetup.TryGetBytesAcked(_to, out var acked))
        {
            return true;
        }

        if (acked == _ackedSeen)
        {
            return false;
        }

        _ackedSeen = acked;
        return true;
    }

    public void Start(Socket from, Socket to)
    {
        _from = from;
        _to = to;
    }

    /// <summary>Room for a header to send before anything else (a PROXY protocol header for the target), written in place.</summary>
    public Span<byte> PrefixBuffer => _prefix ??= new byte[ProxyProtocol.ProxyHeaderWriter.MaxLength];

    /// <summary>Sends the first <paramref name="length"/> bytes of <see cref="PrefixBuffer"/> before anything else.</summary>
    public void SetPrefixLength(int length) => _prefixLength = length;

    /// <summary>
    /// Receives the first bytes into the pipe without consuming them, until the TLS ClientHello
    /// parser decides; the send loop later forwards them unchanged. A silent client runs into
    /// <paramref name="deadline"/> and gets no name; a FIN ends the receiving early (the send
    /// loop passes it on).
    /// </summary>
    /// <returns>The server name, or null (not TLS, no SNI, timed out); Failed when the client reset or the pump was aborted.</returns>
    public async ValueTask<(string? Name, bool Failed)> PeekServerNameAsync(Socket from, CancellationToken deadline, CancellationToken abort)
    {
        _from = from;
        var reader = _pipe.Reader;
        try
        {
            // Bytes that came with a PROXY protocol header may hold the whole ClientHello.
            var examineFirst = HasUnsent;
            while (true)
            {
                var received = 1;
                if (!examineFirst)
                {
                    received = await PeekReceiveAsync(from, deadline).ConfigureAwait(false);
                }

                examineFirst = false;

                reader.TryRead(out var read);
                var result = ClientHelloParser.TryReadServerName(read.Buffer, out var name);

                // Examined nothing: the send loop's first read returns these bytes at once.
                reader.AdvanceTo(read.Buffer.Start);
                if (result != SniParseResult.NeedMoreData || received == 0)
                {
                    return (result == SniParseResult.Found ? name : null, false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            return (null, abort.IsCancellationRequested);
        }
        catch (SocketException)
        {
            return (null, true);
        }
    }

    /// <summary>
    /// Receives the client's first bytes into the pipe until <paramref name="connection"/> finds a
    /// whole PROXY protocol header in them or rejects them; the header is consumed, the bytes after
    /// it stay for the send loop.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ProxyHeaderOutcome> ReadHeaderAsync(Socket from, CancellationToken deadline, CancellationToken abort, Sockets.SocketConnection connection)
    {
        _from = from;
        var reader = _pipe.Reader;
        try
        {
            while (true)
            {
                var received = await PeekReceiveAsync(from, deadline).ConfigureAwait(false);
                reader.TryRead(out var read);
                var buffer = read.Buffer;
                var status = connection.ExamineHeader(buffer, out var consumed);
                if (status == ProxyProtocol.ProxyParseStatus.Done)
                {
                    reader.AdvanceTo(buffer.GetPosition(consumed));
                    Volatile.Write(ref _received, _received - consumed); // Never to be sent on.
                    return ProxyHeaderOutcome.Received;
                }

                reader.AdvanceTo(buffer.Start);
                if (status == ProxyProtocol.ProxyParseStatus.Invalid)
                {
                    return ProxyHeaderOutcome.Malformed;
                }

                if (received == 0)
                {
                    connection.HeaderEnded("the client closed before the end of its header");
                    return ProxyHeaderOutcome.Malformed;
                }
            }
        }
        catch (OperationCanceledException)
        {
            connection.HeaderEnded("no complete header within ProxyProtocolTimeout");
            return abort.IsCancellationRequested ? ProxyHeaderOutcome.Failed : ProxyHeaderOutcome.TimedOut;
        }
        catch (SocketException)
        {
            return ProxyHeaderOutcome.Failed;
        }
    }

    /// <summary>One receive of a peek into the pipe, flushed; 0 at the client's FIN (which completes the writer).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> PeekReceiveAsync(Socket from, CancellationToken deadline)
    {
        var writer = _pipe.Writer;
        var memory = writer.GetMemory();

        // Socket.ReceiveAsync rather than the pooled operation: only it can be cancelled
        // at the deadline without closing the socket.
        var received = await from.ReceiveAsync(memory, SocketFlags.None, deadline).ConfigureAwait(false);
        if (received == 0)
        {
            _receiveEnded = true;
            await writer.CompleteAsync().ConfigureAwait(false);
        }
        else
        {
            Volatile.Write(ref _received, _received + received);
            writer.Advance(received);
            await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        }

        return received;
    }

    /// <summary>Readies the direction for another connection (pooling).</summary>
    public void Reset()
    {
        // Both ends are complete after a run; completing again is a no-op, and makes a pump that
        // never ran (or whose run failed) reusable too.
        _pipe.Writer.Complete();
        _pipe.Reader.Complete();
        _pipe.Reset();
        _receive.ReleaseBuffers();
        _receiveEnded = false;
        _received = 0;
        _sent = 0;
        _sendPending = 0;
        _ackedSeen = 0;
        _prefixLength = 0;
        _from = null!;
        _to = null!;
    }

    /// <summary>Socket to pipe. Never throws: a failure of any kind ends the connection with resets.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask ReceiveLoopAsync()
    {
        var writer = _pipe.Writer;
        var mayHaveMore = false;
        try
        {
            while (!_receiveEnded)
            {
                if (!mayHaveMore)
                {
                    var ready = await _receive.ReceiveAsync(_from, Memory<byte>.Empty).ConfigureAwait(false);
                    if (!ready.Succeeded)
                    {
                        _owner.OnReceiveFailed(_fromClient);
                        break;
                    }
                }

                var memory = writer.GetMemory();
                var result = await _receive.ReceiveAsync(_from, memory).ConfigureAwait(false);
                if (!result.Succeeded)
                {
                    _owner.OnReceiveFailed(_fromClient);
                    break;
                }

                if (result.BytesTransferred == 0)
                {
                    break; // FIN: the send loop finishes what is buffered, then half-closes.
                }

                // A full buffer suggests more is queued: skip the zero-byte wait for the next read.
                mayHaveMore = result.BytesTransferred == memory.Length;
                Volatile.Write(ref _received, _received + result.BytesTransferred);
                _owner.Touch();
                writer.Advance(result.BytesTransferred);
                var flush = await writer.FlushAsync().ConfigureAwait(false);
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break; // The send loop ended (its socket failed): nothing more to forward.
                }
            }
        }
#pragma warning disable CA1031 // A bug here must end this connection (with resets), never leak its buffers or hang its other loops.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _owner.OnLoopFailed(e);
        }

        await writer.CompleteAsync().ConfigureAwait(false);
    }

    /// <summary>Pipe to socket. Never throws: a failure of any kind ends the connection with resets.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask SendLoopAsync()
    {
        var reader = _pipe.Reader;
        try
        {
            while (true)
            {
                // A header goes out at once: with the bytes already waiting (peeked), else alone,
                // for targets that speak first.
                var header = _prefixLength;
                _prefixLength = 0;
                ReadResult read = default;
                var reading = header == 0 || reader.TryRead(out read);
                if (header == 0)
                {
                    read = await reader.ReadAsync().ConfigureAwait(false);
                }

                var buffer = read.Buffer;
                if (!buffer.IsEmpty && _owner.IsAborted)
                {
                    // Ended while these bytes waited (an idle close raced their arrival): they will
                    // never go out, so the ending must not look complete.
                    _owner.OnUnsent();
                }
                else if (!buffer.IsEmpty || header > 0)
                {
                    var send = SocketOperation.Rent();
                    var sending = send.SendAsync(_to, new ArraySegment<byte>(_prefix ?? [], 0, header), buffer);
                    if (!sending.IsCompleted)
                    {
                        // Only a send that waits for its reader is flagged: the idle sweep counts it
                        // as activity while the reader takes bytes (SendMadeProgress).
                        Volatile.Write(ref _sendPending, 1);
                    }

                    var result = await sending.ConfigureAwait(false);

                    // Only the client's bytes count, not the header.
                    var sent = new SocketResult(Math.Max(0, result.BytesTransferred - header), result.Error);

                    // Counted once sent, not once received: what an abort leaves in the pipe never
                    // reached the other side and must not show in the result, metrics or access log.
                    Volatile.Write(ref _sent, _sent + sent.BytesTransferred);

                    // Stamped before the flag clears: the sweep, which reads the flag first, sees
                    // a send still pending or this stamp, never a stale stamp and no send.
                    _owner.Touch();
                    Volatile.Write(ref _sendPending, 0);
                    SocketOperation.Return(send);
                    _owner.Counter?.AddBytes(_fromClient, sent.BytesTransferred);
                    if (!sent.Succeeded)
                    {
                        if (reading)
                        {
                            reader.AdvanceTo(buffer.End);
                        }

                        _owner.OnSendFailed(_fromClient);
                        break;
                    }
                }

                if (!reading)
                {
                    continue; // The header went alone: now wait for the client.
                }

                reader.AdvanceTo(buffer.End);
                if (read.IsCompleted || read.IsCanceled)
                {
                    // The first direction to end half-closes; when the second ends, both sockets
                    // are closed right away and close() sends that FIN: one syscall saved.
                    if (!_owner.IsAborted && _owner.OnSendDone() == 1)
                    {
                        SocketSetup.TryShutdownSend(_to);
                    }

                    break;
                }
            }
        }
#pragma warning disable CA1031 // As in ReceiveLoopAsync.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _owner.OnLoopFailed(e);
        }

        await reader.CompleteAsync().ConfigureAwait(false);
    }
}

using System.Buffers;
using System.Runtime.InteropServices;

namespace FProxy.Transport.Linux;

/// <summary>
/// One direction of a proxied connection on the epoll transport: readiness flags kept from the
/// edge-triggered events, and at most one buffer (or one kernel pipe) of bytes received and not
/// yet sent. Reading stops while bytes wait to be sent (backpressure without thresholds); an idle
/// direction holds no buffer. A FIN is passed on once everything before it was sent.
/// </summary>
/// <remarks>
/// A short read means the socket was drained: with edge-triggered epoll, bytes that arrive later
/// raise a new event, so the EAGAIN read that would confirm it is skipped (nginx does the same),
/// except after RDHUP, when the FIN is still to be read. A read that fills a whole block marks a
/// bulk stream: its next reads splice through a kernel pipe when one is free, so the payload is
/// never copied into user space.
/// </remarks>
internal sealed unsafe class EpollDirection(EpollConnection owner, bool fromClient)
{
    private IMemoryOwner<byte>? _block;
    private byte[]? _prefix; // A PROXY protocol header to send first; kept for the pooled connection's next lives.
    private int _prefixOffset;
    private int _prefixCount;
    private int _offset;
    private int _count;
    private int _pipeRead = -1;
    private int _pipeWrite = -1;
    private int _inPipe;
    private bool _bulk;
    private long _ackedSeen; // The idle check's: what To's peer had acknowledged when it last looked.

    /// <summary>The socket bytes come from.</summary>
    public int From { get; set; } = -1;

    /// <summary>The socket bytes go to.</summary>
    public int To { get; set; } = -1;

    /// <summary>From has bytes, a FIN or an error to read (an edge was seen and not yet drained).</summary>
    public bool Readable { get; set; }

    /// <summary>To can take bytes (no send has been refused since its last OUT edge).</summary>
    public bool Writable { get; set; }

    /// <summary>From's peer has sent its FIN (RDHUP): read until the 0.</summary>
    public bool PeerClosed { get; set; }

    /// <summary>From sent its FIN and everything before it has been read.</summary>
    public bool Eof { get; private set; }

    /// <summary>Eof, and everything has been sent on.</summary>
    public bool Done { get; private set; }

    /// <summary>Bytes sent on to To.</summary>
    public long Sent { get; private set; }

    /// <summary>Bytes received (or a header) not yet sent on.</summary>
    public bool HasPending => _count > 0 || _inPipe > 0 || _prefixCount > 0;

    /// <summary>Bytes held by the peek buffer, before any was sent.</summary>
    public int Peeked => _count;

    /// <summary>Moves what it can until it would block, the direction is done, or the connection ended.</summary>
    public void Pump()
    {
        while (!owner.Ended)
        {
            if (HasPending)
            {
                if (_prefixCount > 0 && _count == 0 && Readable && !Eof)
                {
                    // The client's first bytes are waiting: read them, so they leave in the same
                    // send as the header.
                    _ = Fill();
                    if (owner.Ended)
                    {
                        return;
                    }
                }

                if (!Writable || !Flush())
                {
                    return;
                }

                continue;
            }

            if (Eof)
            {
                if (!Done)
                {
                    Done = true;
                    owner.OnDirectionDone(this);
                }

                return;
            }

            if (!Readable || !Fill())
            {
                return;
            }
        }
    }

    /// <summary>
    /// Reads the client's first bytes into this direction's buffer, keeping them for the target
    /// (SNI peek). Returns what it saw: data (parse again), Eof, a failure, or nothing new.
    /// </summary>
    public PeekStep PeekMore(out ReadOnlySequence<byte> buffered)
    {
        buffered = default;
        if (!Readable)
        {
            return PeekStep.Wait;
        }

        _block ??= owner.Blocks.Rent();
        var memory = _block.Memory;
        var end = _offset + _count;
        if (end == memory.Length)
        {
            return PeekStep.Full;
        }

        nint received;
        fixed (byte* start = &MemoryMarshal.GetReference(memory.Span))
        {
            received = Libc.Receive(From, start + end, memory.Length - end, 0);
        }

        if (received < 0)
        {
            var errno = Libc.Errno;
            if (errno == Libc.EAgain)
            {
                Readable = false;
                return PeekStep.Wait;
            }

            return PeekStep.Failed;
        }

        if (received == 0)
        {
            Eof = true;
            return PeekStep.Eof;
        }

        if (end + received < memory.Length && !PeerClosed)
        {
            Readable = false;
        }

        _count += (int)received;
        buffered = new ReadOnlySequence<byte>(memory.Slice(_offset, _count));
        return PeekStep.Data;
    }

    /// <summary>The bytes peeked and kept so far (what came after a PROXY protocol header).</summary>
    public ReadOnlySequence<byte> Buffered => _count == 0 ? default : new ReadOnlySequence<byte>(_block!.Memory.Slice(_offset, _count));

    /// <summary>Drops the first <paramref name="length"/> peeked bytes (a PROXY protocol header the proxy consumed).</summary>
    public void Consume(int length)
    {
        _offset += length;
        _count -= length;
        if (_count == 0)
        {
            ReleaseBlock(); // Nothing else came with the header: an idle client holds no buffer.
        }
    }

    /// <summary>Room for a header to send before anything else (a PROXY protocol header for the target), written in place.</summary>
    public Span<byte> PrefixBuffer => _prefix ??= new byte[ProxyProtocol.ProxyHeaderWriter.MaxLength];

    /// <summary>Sends the first <paramref name="length"/> bytes of <see cref="PrefixBuffer"/> before anything else.</summary>
    public void SetPrefixLength(int length)
    {
        _prefixOffset = 0;
        _prefixCount = length;
    }

    /// <summary>
    /// For the idle check: whether bytes wait to be sent and To's reader took some since the last
    /// look (TCP_INFO's bytes_acked grew). A slow reader keeps bytes waiting for longer than an
    /// IdleTimeout while they move all along; one that stopped reading moves none, and is idle.
    /// </summary>
    public bool SendMadeProgress()
    {
        if (!HasPending)
        {
            return false;
        }

        const int TcpInfo = 11;
        const int BytesAckedOffset = 120; // struct tcp_info's tcpi_bytes_acked (Linux 4.1+), a u64.
        var info = stackalloc byte[256];
        var length = 256;
        if (Libc.GetSockOpt(To, Libc.IpProtoTcp, TcpInfo, info, &length) != 0 || length < BytesAckedOffset + sizeof(long))
        {
            return true; // The kernel does not say: a pending send counts as activity.
        }

        var acked = *(long*)(info + BytesAckedOffset);
        if (acked == _ackedSeen)
        {
            return false;
        }

        _ackedSeen = acked;
        return true;
    }

    /// <summary>Gives back the buffer and pipe; a pipe still holding data is closed.</summary>
    public void Reset()
    {
        ReleaseBlock();
        if (_pipeRead >= 0)
        {
            if (_inPipe == 0)
            {
                owner.Pipes.Return(_pipeRead, _pipeWrite);
            }
            else
            {
                owner.Pipes.Destroy(_pipeRead, _pipeWrite);
            }
        }

        _pipeRead = _pipeWrite = -1;
        _inPipe = 0;
        _prefixOffset = _prefixCount = 0;
        _bulk = false;
        _ackedSeen = 0;
        From = To = -1;
        Readable = Writable = PeerClosed = Eof = Done = false;
        Sent = 0;
    }

    /// <summary>Sends what is pending; true when all of it went.</summary>
    private bool Flush()
    {
        if (_prefixCount > 0)
        {
            return FlushPrefix();
        }

        nint sent;
        if (_inPipe > 0)
        {
            sent = Libc.Splice(_pipeRead, null, To, null, _inPipe, Libc.SpliceMove | Libc.SpliceNonBlock);
        }
        else
        {
            fixed (byte* start = &MemoryMarshal.GetReference(_block!.Memory.Span))
            {
                sent = Libc.Send(To, start + _offset, _count, Libc.MsgNoSignal);
            }
        }

        if (sent < 0)
        {
            return SendFailed();
        }

        Sent += sent;
        owner.OnSent(fromClient, sent);
        if (_inPipe > 0)
        {
            _inPipe -= (int)sent;
            if (_inPipe > 0)
            {
                Writable = false; // Partial: To's buffer is full; its OUT edge resumes us.
                return false;
            }

            if (!Readable)
            {
                ReturnPipe(); // The burst is over: the pipe's descriptors go back.
            }

            return true;
        }

        _offset += (int)sent;
        _count -= (int)sent;
        if (_count > 0)
        {
            Writable = false;
            return false;
        }

        ReleaseBlock();
        return true;
    }

    /// <summary>
    /// Sends the header, and the client's bytes after it in the same call when there are some:
    /// one sendmsg, so a header costs no extra syscall. Only the client's bytes count as sent.
    /// </summary>
    private bool FlushPrefix()
    {
        nint sent;
        fixed (byte* prefix = _prefix)
        {
            if (_count == 0)
            {
                sent = Libc.Send(To, prefix + _prefixOffset, _prefixCount, Libc.MsgNoSignal);
            }
            else
            {
                fixed (byte* start = &MemoryMarshal.GetReference(_block!.Memory.Span))
                {
                    var parts = stackalloc Libc.IoVec[2];
                    parts[0] = new Libc.IoVec { Base = prefix + _prefixOffset, Length = (nuint)_prefixCount };
                    parts[1] = new Libc.IoVec { Base = start + _offset, Length = (nuint)_count };
                    var message = new Libc.MsgHdr { Iov = parts, IovLength = 2 };
                    sent = Libc.SendMsg(To, &message, Libc.MsgNoSignal);
                }
            }
        }

        if (sent < 0)
        {
            return SendFailed();
        }

        var ofHeader = (int)Math.Min(sent, _prefixCount);
        _prefixOffset += ofHeader;
        _prefixCount -= ofHeader;
        var ofData = (int)sent - ofHeader;
        if (ofData > 0)
        {
            Sent += ofData;
            owner.OnSent(fromClient, ofData);
            _offset += ofData;
            _count -= ofData;
        }
        else
        {
            owner.Touch();
        }

        if (_prefixCount > 0 || _count > 0)
        {
            Writable = false; // Partial: To's buffer is full; its OUT edge resumes us.
            return false;
        }

        if (_block is not null)
        {
            ReleaseBlock();
        }

        return true;
    }

    /// <summary>Reads into a fresh block or the pipe; true when something (data or the FIN) was read.</summary>
    private bool Fill()
    {
        if (_bulk && (_pipeRead >= 0 || owner.Pipes.TryRent(out _pipeRead, out _pipeWrite)))
        {
            return SpliceIn();
        }

        _bulk = false; // No pipe free: copy, and ask again at the next full read.
        var block = _block ?? owner.Blocks.Rent(); // An empty one a peek that found nothing left behind.
        _block = null;
        var memory = block.Memory;
        nint received;
        fixed (byte* start = &MemoryMarshal.GetReference(memory.Span))
        {
            received = Libc.Receive(From, start, memory.Length, 0);
        }

        if (received <= 0)
        {
            var errno = received < 0 ? Libc.Errno : 0;
            block.Dispose();
            return received == 0 ? SetEof() : ReadFailed(errno);
        }

        _block = block;
        _offset = 0;
        _count = (int)received;
        owner.Touch();
        if (received == memory.Length)
        {
            _bulk = owner.SpliceEnabled;
        }
        else if (!PeerClosed)
        {
            Readable = false;
        }

        return true;
    }

    private bool SpliceIn()
    {
        const int PipeCapacity = 64 * 1024; // Linux's default pipe size: 16 pages.
        var received = Libc.Splice(From, null, _pipeWrite, null, PipeCapacity, Libc.SpliceMove | Libc.SpliceNonBlock);
        if (received <= 0)
        {
            if (received == 0)
            {
                return SetEof();
            }

            var failed = ReadFailed(Libc.Errno);
            if (!Readable)
            {
                ReturnPipe();
            }

            return failed;
        }

        _inPipe = (int)received;
        owner.Touch();
        if (received < PipeCapacity && !PeerClosed)
        {
            Readable = false;
        }

        return true;
    }

    /// <summary>A send returned -1: To is full (wait for its OUT edge), or it failed (reset both). Always false.</summary>
    private bool SendFailed()
    {
        if (Libc.Errno == Libc.EAgain)
        {
            Writable = false;
        }
        else
        {
            // Sending to the target failed: it is the target that reset, and the other way round.
            owner.Fail(fromClient ? PumpEnd.TargetReset : PumpEnd.ClientReset);
        }

        return false;
    }

    private bool SetEof()
    {
        Eof = true;
        return true;
    }

    private bool ReadFailed(int errno)
    {
        if (errno == Libc.EAgain)
        {
            Readable = false;
        }
        else
        {
            owner.Fail(fromClient ? PumpEnd.ClientReset : PumpEnd.TargetReset);
        }

        return false;
    }

    private void ReturnPipe()
    {
        if (_pipeRead >= 0 && _inPipe == 0)
        {
            owner.Pipes.Return(_pipeRead, _pipeWrite);
            _pipeRead = _pipeWrite = -1;
        }
    }

    private void ReleaseBlock()
    {
        _block?.Dispose();
        _block = null;
        _offset = _count = 0;
    }
}

/// <summary>What one read of the SNI peek found.</summary>
internal enum PeekStep
{
    /// <summary>Nothing to read now: wait for the next event.</summary>
    Wait,

    /// <summary>New bytes: parse again.</summary>
    Data,

    /// <summary>The client sent its FIN.</summary>
    Eof,

    /// <summary>The buffer is full and the parser still wants more: decide without a name.</summary>
    Full,

    /// <summary>The client reset.</summary>
    Failed,
}

using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Win32.SafeHandles;

namespace FProxy.Transport.Linux;

/// <summary>
/// One I/O thread of the epoll transport: an epoll instance, the connections accepted on it, their
/// deadlines and a queue for work handed over from other threads. Everything a connection does
/// happens on its loop's thread, so connection state needs no lock; continuations of the awaits
/// on a connection run inline here too.
/// </summary>
/// <remarks>
/// Descriptors are registered once, edge-triggered for IN, OUT and RDHUP (as nginx does), so no
/// epoll_ctl is needed to switch interest while a connection lives. The event's 64-bit data holds
/// the handler's slot, a generation and a kind: an event fetched in the same batch as the close of
/// its descriptor, whose slot has since been reused, carries an old generation and is dropped.
/// </remarks>
internal sealed unsafe class EpollLoop : IEpollHandler, IDisposable
{
    private const int MaxEvents = 256;
    private const int KindBits = 3;
    private const int WakeSlot = 0;

    // struct epoll_event is packed (12 bytes) on x86-64 only; elsewhere the 64-bit data is aligned.
    private static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;
    private static readonly int DataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly SafeFileHandle _wakeHandle;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<(Action<object?> Action, object? State)> _posted = new();
    private readonly TimerHeap _timers = new();
    private readonly TimeProvider _time;
    private readonly ITimer? _clockTimer; // Only with a test clock: it wakes the loop when the clock is moved.
    private readonly ILogger _logger;
    private readonly Stack<int> _freeSlots = new();
    private IEpollHandler?[] _handlers = new IEpollHandler?[64];
    private uint[] _generations = new uint[64];
    private int _slots = 1; // Slot 0 is the wake-up eventfd.
    private int _threadId;
    private int _wakePending;
    private long _clockArmedFor = long.MaxValue;
    private volatile bool _stopping;
    private byte* _events;

    public EpollLoop(int index, TimeProvider time, MemoryPool<byte> blocks, PipePool pipes, bool splice, ILogger logger)
    {
        Index = index;
        Blocks = blocks;
        Pipes = pipes;
        SpliceEnabled = splice;
        _time = time;
        _logger = logger;
        _epoll = Libc.EpollCreate(Libc.SockCloExec);
        if (_epoll < 0)
        {
            throw new System.Net.Sockets.SocketException((int)Libc.ToSocketError(Libc.Errno));
        }

        _wake = Libc.EventFd(0, Libc.SockNonBlock | Libc.SockCloExec);
        _handlers[WakeSlot] = this;
        if (_wake < 0 || Add(_wake, Libc.EpollIn | Libc.EpollEdge, WakeSlot, 0) != 0)
        {
            var error = Libc.Errno;
            if (_wake >= 0)
            {
                _ = Libc.Close(_wake);
            }

            _ = Libc.Close(_epoll);
            throw new System.Net.Sockets.SocketException((int)Libc.ToSocketError(error));
        }

        // Wake can run on any thread at any time, also while the loop closes the eventfd: the
        // handle's reference count keeps the descriptor number from being closed under a write,
        // and a write after the close fails instead of landing in whatever reused the number
        // (found as a stray byte in the runtime's signal pipe, read as SIGHUP).
        _wakeHandle = new SafeFileHandle(_wake, ownsHandle: true);

        if (!ReferenceEquals(time, TimeProvider.System))
        {
            _clockTimer = time.CreateTimer(static s => ((EpollLoop)s!).Wake(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        _events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * EventSize));
        _thread = new Thread(Run) { IsBackground = true, Name = $"fproxy-epoll-{index}" };
    }

    /// <summary>This loop's number, 0-based.</summary>
    public int Index { get; }

    /// <summary>
    /// The loop's clock (<see cref="TimeProvider"/> timestamps), read once per wake-up: every
    /// deadline and activity stamp uses it, so no I/O reads the clock.
    /// </summary>
    public long Now { get; private set; }

    public TimeProvider Time => _time;

    /// <summary>Where receive buffers come from (one block per direction while bytes are in flight).</summary>
    public MemoryPool<byte> Blocks { get; }

    /// <summary>This loop's kernel pipes for splice.</summary>
    public PipePool Pipes { get; }

    /// <summary>Whether bulk streams splice (else every byte is copied through a block).</summary>
    public bool SpliceEnabled { get; }

    /// <summary>True on the loop's own thread.</summary>
    public bool IsCurrent => Environment.CurrentManagedThreadId == _threadId;

    /// <summary>Connections open on this loop, for drains and shutdown (linked through their own fields).</summary>
    internal EpollConnection? Live { get; set; }

    /// <summary>
    /// Most pooled connections a loop keeps: enough that steady traffic never allocates one, few
    /// enough (about 1 MiB) that the connections of a spike go back to the GC when it ends.
    /// </summary>
    public const int MaxFreeConnections = 512;

    /// <summary>Pooled connections ready for the next accept (at most <see cref="MaxFreeConnections"/>).</summary>
    internal Stack<EpollConnection> FreeConnections { get; } = new();

    public void Start()
    {
        Now = _time.GetTimestamp();
        _thread.Start();
    }

    /// <summary>Takes a slot for <paramref name="handler"/>; its descriptors are registered under it.</summary>
    public int Register(IEpollHandler handler)
    {
        int slot;
        if (_freeSlots.Count > 0)
        {
            slot = _freeSlots.Pop();
        }
        else
        {
            slot = _slots++;
            if (slot == _handlers.Length)
            {
                Array.Resize(ref _handlers, slot * 2);
                Array.Resize(ref _generations, slot * 2);
            }
        }

        _handlers[slot] = handler;
        return slot;
    }

    /// <summary>Frees a slot: events still queued for its descriptors are dropped.</summary>
    public void Unregister(int slot)
    {
        _handlers[slot] = null;
        _generations[slot]++;
        _freeSlots.Push(slot);
    }

    /// <summary>Starts a new life for a slot (a pooled connection reused): events of the old one are dropped.</summary>
    public void Renew(int slot) => _generations[slot]++;

    /// <summary>Registers <paramref name="fd"/>; returns 0 or the errno.</summary>
    public int Add(int fd, uint events, int slot, int kind)
    {
        var ev = stackalloc byte[16];
        *(uint*)ev = events;
        *(ulong*)(ev + DataOffset) = ((ulong)_generations[slot] << 32) | (uint)(slot << KindBits) | (uint)kind;
        return Libc.EpollCtl(_epoll, Libc.EpollCtlAdd, fd, ev) == 0 ? 0 : Libc.Errno;
    }

    /// <summary>Stops watching <paramref name="fd"/> (closing it does so too, once no other copy is open).</summary>
    public void Delete(int fd)
    {
        var ev = stackalloc byte[16];
        _ = Libc.EpollCtl(_epoll, Libc.EpollCtlDel, fd, ev);
    }

    public void Schedule(LoopTimer timer, long due) => _timers.Schedule(timer, due);

    public void Cancel(LoopTimer timer) => _timers.Cancel(timer);

    /// <summary>Converts a duration to the loop clock's ticks.</summary>
    public long Ticks(TimeSpan duration) => (long)(duration.Ticks * (_time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

    /// <summary>Runs <paramref name="action"/> on the loop's thread, after the events it is handling now. Any thread.</summary>
    public void Post(Action<object?> action, object? state)
    {
        _posted.Enqueue((action, state));
        if (!IsCurrent)
        {
            Wake();
        }
    }

    /// <summary>
    /// Stops the thread; connections still open are reset. From the loop's own thread (an await
    /// that completed here) it only asks: the loop cleans up once the current event is handled.
    /// </summary>
    public void Dispose()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        Wake();
        if (!IsCurrent && _thread.IsAlive)
        {
            _thread.Join();
        }
    }

    void IEpollHandler.OnEvents(int kind, uint events)
    {
        // The wake-up eventfd: reset its counter. Posted work runs after the batch.
        long value;
        _ = Libc.Read(_wake, &value, sizeof(long));
    }

    private void Wake()
    {
        if (Interlocked.Exchange(ref _wakePending, 1) != 0)
        {
            return;
        }

        var added = false;
        try
        {
            _wakeHandle.DangerousAddRef(ref added);
            long one = 1;
            _ = Libc.Write(_wake, &one, sizeof(long));
        }
        catch (ObjectDisposedException)
        {
            // The loop has stopped: nobody is left to wake.
        }
        finally
        {
            if (added)
            {
                _wakeHandle.DangerousRelease();
            }
        }
    }

    private void Run()
    {
        _threadId = Environment.CurrentManagedThreadId;
        while (!_stopping)
        {
            var count = Libc.EpollWait(_epoll, _events, MaxEvents, WaitTimeout());
            Now = _time.GetTimestamp();
            if (count < 0)
            {
                if (Libc.Errno != Libc.EIntr)
                {
                    EpollLog.WaitFailed(_logger, Index, Libc.ToSocketError(Libc.Errno).ToString());
                    Thread.Sleep(10); // Never spin on a broken epoll; nothing can recover it but a restart.
                }

                continue;
            }

            for (var i = 0; i < count; i++)
            {
                var entry = _events + (i * EventSize);
                Dispatch(*(uint*)entry, *(ulong*)(entry + DataOffset));
            }

            RunPosted();
            RunTimers();
        }

        ResetAll();
        _clockTimer?.Dispose();
        Pipes.Clear();
        _wakeHandle.Dispose();
        _ = Libc.Close(_epoll);
        NativeMemory.Free(_events);
        _events = null;
    }

    private void Dispatch(uint events, ulong data)
    {
        var slot = (int)((uint)data >> KindBits);
        var handler = _handlers[slot];
        if (handler is null || _generations[slot] != (uint)(data >> 32))
        {
            return; // Its descriptor was closed while this event waited in the batch.
        }

        try
        {
            handler.OnEvents((int)(data & ((1 << KindBits) - 1)), events);
        }
#pragma warning disable CA1031 // A bug in one connection's handler must not stop the loop (and every other connection on it).
        catch (Exception e)
#pragma warning restore CA1031
        {
            EpollLog.HandlerFailed(_logger, Index, e);
        }
    }

    private void RunPosted()
    {
        Volatile.Write(ref _wakePending, 0);
        while (_posted.TryDequeue(out var work))
        {
            try
            {
                work.Action(work.State);
            }
#pragma warning disable CA1031 // As in Dispatch.
            catch (Exception e)
#pragma warning restore CA1031
            {
                EpollLog.HandlerFailed(_logger, Index, e);
            }
        }
    }

    private void RunTimers()
    {
        while (_timers.TakeDue(Now) is { } timer)
        {
            try
            {
                timer.Fire();
            }
#pragma warning disable CA1031 // As in Dispatch.
            catch (Exception e)
#pragma warning restore CA1031
            {
                EpollLog.HandlerFailed(_logger, Index, e);
            }
        }

        if (_clockTimer is not null && _timers.NextDue != _clockArmedFor)
        {
            _clockArmedFor = _timers.NextDue;
            _clockTimer.Change(
                _clockArmedFor == long.MaxValue ? Timeout.InfiniteTimeSpan : _time.GetElapsedTime(Now, Math.Max(Now, _clockArmedFor)),
                Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>epoll_wait's timeout in ms: until the next deadline (rounded up), or forever.</summary>
    private int WaitTimeout()
    {
        if (!_posted.IsEmpty)
        {
            return 0;
        }

        var due = _timers.NextDue;
        if (due == long.MaxValue || _clockTimer is not null)
        {
            return -1; // A test clock wakes the loop through its timer instead.
        }

        var left = due - _time.GetTimestamp();
        if (left <= 0)
        {
            return 0;
        }

        var ms = (left * 1000 + _time.TimestampFrequency - 1) / _time.TimestampFrequency;
        return (int)Math.Min(ms, int.MaxValue);
    }

    private void ResetAll()
    {
        while (Live is { } connection)
        {
            connection.Abort();
            if (ReferenceEquals(Live, connection))
            {
                Live = connection.Next; // Still held by its handler: just forget it.
            }
        }
    }
}

using BenchmarkDotNet.Attributes;
using FProxy.Transport.Linux;

namespace FProxy.Benchmarks;

/// <summary>
/// The epoll loop's deadlines (<see cref="TimerHeap"/>) with <see cref="Pending"/> timers armed,
/// as a busy loop has one or two per connection: arming and cancelling a connect deadline,
/// moving an idle timer (the lazy rescheduling a timer that finds recent activity does), and
/// firing the earliest one and arming it again. Each stays O(log n) and allocates nothing: the
/// timers are made once by their owners and only move within the heap's array.
/// </summary>
/// <remarks>
/// Deadlines are spread at random (fixed seed) over <see cref="Spread"/> ticks, so a new one lands
/// anywhere in the heap, not always at the bottom. Each operation leaves the heap with
/// <see cref="Pending"/> timers, so every invocation measures the same steady state.
/// </remarks>
[MemoryDiagnoser]
public class TimerHeapBenchmarks
{
    /// <summary>Timers armed throughout: a loop with a few thousand connections.</summary>
    public const int Pending = 10_000;

    /// <summary>Range of deadlines, in clock ticks, a timer is armed within from "now".</summary>
    private const long Spread = 1_000_000;

    // A power of two, so picking the next precomputed value is a mask.
    private const int DueCount = 4096;

    private readonly TimerHeap _heap = new();
    private readonly LoopTimer[] _timers = new LoopTimer[Pending];
    private readonly LoopTimer _extra = new(static _ => { }, new object());
    private readonly long[] _offsets = new long[DueCount];
    // Unsigned: a long run wraps it without ever indexing below zero.
    private uint _next;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(42);
        for (var i = 0; i < _offsets.Length; i++)
        {
            _offsets[i] = 1 + random.NextInt64(Spread);
        }

        var state = new object();
        for (var i = 0; i < _timers.Length; i++)
        {
            _timers[i] = new LoopTimer(static _ => { }, state);
            _heap.Schedule(_timers[i], _offsets[i & (DueCount - 1)]);
        }
    }

    /// <summary>A connect deadline: armed, then cancelled when the connect completes first.</summary>
    [Benchmark]
    public int ScheduleAndCancel()
    {
        _heap.Schedule(_extra, NextDue(_heap.NextDue));
        _heap.Cancel(_extra);
        return _heap.Count;
    }

    /// <summary>An idle timer moved to a new deadline while armed (earlier or later, at random).</summary>
    [Benchmark]
    public int Reschedule()
    {
        var timer = _timers[_next % Pending];
        _heap.Schedule(timer, NextDue(_heap.NextDue));
        return _heap.Count;
    }

    /// <summary>The earliest timer taken as due and armed again later, as the loop does for a repeating deadline.</summary>
    [Benchmark]
    public long TakeDueAndRearm()
    {
        var now = _heap.NextDue;
        var timer = _heap.TakeDue(now)!;
        _heap.Schedule(timer, NextDue(now));
        return now;
    }

    private long NextDue(long now) => now + _offsets[_next++ & (DueCount - 1)];
}

using System.Globalization;

namespace FProxy.Benchmarks.Ci;

/// <summary>
/// Compares a CI pass with the baseline. Allocations must match (exactly, unless the class states
/// its noise with <see cref="AllocationToleranceAttribute"/>), in both directions: an unexplained
/// drop is as suspect as a rise, and an intended one belongs in a new baseline. Times fail only
/// when far slower than the baseline: on a shared two-core VM they move a lot, and faster is never
/// a failure. Every baseline entry must have run and every benchmark run must be in the baseline,
/// so the file stays in step with the benchmarks.
/// </summary>
internal static class RegressionCheck
{
    /// <summary>
    /// The mean may be up to this many times the baseline's. Measured on the 2-core dev VM, 15
    /// single CI passes: in the 7 with ordinary noise (another engineer's proxy benchmark under
    /// perf, then their test run) every benchmark stayed within 2.0x of its median over those
    /// passes (worst TimerHeap Reschedule 1.98x; PooledPump 3.5x from its fastest pass to its
    /// slowest), so 3x leaves half as much again for a baseline recorded on a quieter day. With
    /// the cores saturated (two busy loops of ours on top of that test run, or a rebuild of the
    /// solution in a loop) single passes reached 6.3x (TimerHeap ScheduleAndCancel) and 22x
    /// (ThroughProxy on sockets: each connect is several wake-ups across three threads, each
    /// waiting for a time slice): no factor that still catches anything survives that, so a
    /// suspect is rerun once the machine is quiet instead (see CiPass).
    /// </summary>
    public const double MaxSlowdown = 3.0;

    /// <summary>Every benchmark run and every baseline entry, in that order.</summary>
    public static IReadOnlyList<Comparison> Compare(Baseline baseline, IReadOnlyList<MeasuredBenchmark> measured)
    {
        var rows = measured.Select(benchmark => Check(baseline.Benchmarks.GetValueOrDefault(benchmark.Name), benchmark)).ToList();
        var run = measured.Select(static benchmark => benchmark.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var (name, before) in baseline.Benchmarks)
        {
            if (!run.Contains(name))
            {
                rows.Add(new Comparison(name, before, null, ["in the baseline but not run (renamed or removed? update the baseline)"], Noisy: false));
            }
        }

        return rows;
    }

    /// <summary>One benchmark against its baseline figures (null: not in the baseline).</summary>
    public static Comparison Check(BenchmarkFigures? before, MeasuredBenchmark benchmark)
    {
        if (benchmark.Figures is not { } now)
        {
            return new Comparison(benchmark.Name, before, null, ["failed: no results (see its log above)"], Noisy: false);
        }

        if (before is null)
        {
            return new Comparison(benchmark.Name, null, now, ["not in the baseline (new? update the baseline)"], Noisy: false);
        }

        var problems = new List<string>();
        var noisy = true;
        if (now.MeanNs > before.MeanNs * MaxSlowdown)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{now.MeanNs / before.MeanNs:0.00}x the baseline's time (limit {MaxSlowdown}x)"));
        }

        var tolerance = benchmark.AllocationTolerance;
        if (Math.Abs(now.AllocatedBytes - before.AllocatedBytes) > tolerance)
        {
            problems.Add(tolerance == 0
                ? string.Create(CultureInfo.InvariantCulture, $"allocates {now.AllocatedBytes} B/op, baseline {before.AllocatedBytes} B/op (must match exactly)")
                : string.Create(CultureInfo.InvariantCulture, $"allocates {now.AllocatedBytes} B/op, baseline {before.AllocatedBytes} B/op (tolerance +/-{tolerance} B)"));
            noisy = tolerance > 0;
        }

        return new Comparison(benchmark.Name, before, now, problems, noisy);
    }
}

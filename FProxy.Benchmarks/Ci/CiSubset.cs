using BenchmarkDotNet.Running;

namespace FProxy.Benchmarks.Ci;

/// <summary>
/// Which benchmarks the CI pass runs: every case of the small deterministic classes, the connect
/// latency on each transport, and one row of the strategy matrix. Left out: PumpThroughput (64 MiB
/// an operation, seconds per case) and the rest of the strategy matrix (1,000 targets, weights,
/// every core), which measure scaling rather than guard the code path a connection takes.
/// </summary>
internal static class CiSubset
{
    public static readonly Type[] Types =
    [
        typeof(SniBenchmarks),
        typeof(TimerHeapBenchmarks),
        typeof(PumpPoolingBenchmarks),
        typeof(StrategyBenchmarks),
        typeof(ConnectLatencyBenchmarks),
    ];

    /// <summary>Whether the CI pass runs <paramref name="benchmark"/> (the classes above are already chosen).</summary>
    public static bool Includes(BenchmarkCase benchmark) =>
        benchmark.Descriptor.Type != typeof(StrategyBenchmarks)
        || (benchmark.Parameters[nameof(StrategyBenchmarks.Targets)] is 3
            && benchmark.Parameters[nameof(StrategyBenchmarks.Weighted)] is false
            && benchmark.Parameters[nameof(StrategyBenchmarks.Threads)] is 1);
}

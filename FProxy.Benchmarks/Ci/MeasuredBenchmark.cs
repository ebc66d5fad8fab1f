namespace FProxy.Benchmarks.Ci;

/// <summary>One benchmark of a CI pass as it ran.</summary>
/// <param name="Name">BenchmarkDotNet's full name (namespace, class, method, parameters): the baseline's key.</param>
/// <param name="Figures">The results; null when the benchmark failed (setup threw, no measurements).</param>
/// <param name="AllocationTolerance">Bytes per operation the allocations may move by (see <see cref="AllocationToleranceAttribute"/>).</param>
internal sealed record MeasuredBenchmark(string Name, BenchmarkFigures? Figures, long AllocationTolerance);

namespace FProxy.Benchmarks.Ci;

/// <summary>What the CI pass records of one benchmark, in the baseline and for each run.</summary>
/// <param name="MeanNs">Mean time per operation in nanoseconds (BenchmarkDotNet's Mean, upper outliers removed).</param>
/// <param name="AllocatedBytes">Bytes allocated per operation, as the memory diagnoser counts them.</param>
internal sealed record BenchmarkFigures(double MeanNs, long AllocatedBytes);

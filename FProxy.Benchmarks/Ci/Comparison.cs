namespace FProxy.Benchmarks.Ci;

/// <summary>One row of the CI comparison: a benchmark's baseline and current figures and what is wrong, if anything.</summary>
/// <param name="Name">The full benchmark name.</param>
/// <param name="Baseline">The committed figures; null when the benchmark is not in the baseline.</param>
/// <param name="Now">This pass's figures; null when it did not run or failed.</param>
/// <param name="Problems">Why the row fails the check; empty when it passes.</param>
/// <param name="Noisy">Whether every problem is one noise can cause (time, or allocations with a tolerance), so a rerun may clear it.</param>
internal sealed record Comparison(string Name, BenchmarkFigures? Baseline, BenchmarkFigures? Now, IReadOnlyList<string> Problems, bool Noisy)
{
    public bool Passed => Problems.Count == 0;

    /// <summary>Which pass produced <see cref="Now"/>: 1 for the first, more for a rerun of a suspect.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>Mean now over mean in the baseline; null unless both exist.</summary>
    public double? Ratio => Baseline is { MeanNs: > 0 } before && Now is { } now ? now.MeanNs / before.MeanNs : null;
}

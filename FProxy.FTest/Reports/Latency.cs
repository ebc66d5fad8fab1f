namespace FProxy.FTest.Reports;

/// <summary>A latency distribution as reports show it: p50, p90, p99 and max (nearest-rank percentiles).</summary>
internal sealed record Latency(TimeSpan P50, TimeSpan P90, TimeSpan P99, TimeSpan Max)
{
    public static readonly Latency None = new(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);

    public static Latency Of(IReadOnlyCollection<TimeSpan> samples)
    {
        if (samples.Count == 0)
        {
            return None;
        }

        var sorted = samples.Order().ToArray();
        return new Latency(Rank(sorted, 0.50), Rank(sorted, 0.90), Rank(sorted, 0.99), sorted[^1]);
    }

    private static TimeSpan Rank(TimeSpan[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}

namespace FProxy.Health;

/// <summary>The outcome of one probe.</summary>
/// <param name="Healthy">Whether the target passed.</param>
/// <param name="Reason">Why it failed, for logs; null when it passed.</param>
public readonly record struct HealthProbeResult(bool Healthy, string? Reason)
{
    /// <summary>The target passed.</summary>
    public static HealthProbeResult Pass => new(true, null);

    /// <summary>The target failed, for <paramref name="reason"/>.</summary>
    /// <param name="reason">What went wrong, e.g. <c>connection refused</c>.</param>
    public static HealthProbeResult Fail(string reason) => new(false, reason);
}

namespace FProxy.Health;

/// <summary>A change in a target's health, reported to its app.</summary>
internal enum HealthTransition
{
    /// <summary>Active checks failed UnhealthyThreshold times in a row.</summary>
    Unhealthy,

    /// <summary>Active checks passed HealthyThreshold times in a row.</summary>
    Healthy,

    /// <summary>Consecutive connect failures took the target out for a while.</summary>
    Ejected,

    /// <summary>The ejection ended (its time ran out, or an active check passed).</summary>
    Returned,
}

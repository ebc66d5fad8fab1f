namespace FProxy.Balancing;

/// <summary>Compares targets by active connections per unit of weight, for the load-aware strategies.</summary>
internal static class TargetLoad
{
    /// <summary>
    /// Whether <paramref name="active"/>/<paramref name="weight"/> is below
    /// <paramref name="otherActive"/>/<paramref name="otherWeight"/>. Cross-multiplied in 64 bits
    /// rather than divided: exact (3 of weight 3 ties 1 of weight 1), no floating point, and an
    /// int times a weight of at most 1000 cannot overflow a long.
    /// </summary>
    public static bool IsLower(int active, int weight, int otherActive, int otherWeight) =>
        (long)active * otherWeight < (long)otherActive * weight;
}

namespace FProxy.Balancing;

/// <summary>
/// What a pick reads, in one reference: the available targets, the strategy made for them, and
/// the unavailable ones the connector tries last. Immutable; replaced whole when health changes.
/// </summary>
internal sealed class PoolSnapshot(TargetSet available, IStrategy strategy, TargetState[] unavailable, bool panic)
{
    public TargetSet Available { get; } = available;

    public IStrategy Strategy { get; } = strategy;

    /// <summary>Tried after every available target failed: a last resort, never a first choice.</summary>
    public TargetState[] Unavailable { get; } = unavailable;

    /// <summary>No target was available, so all of them are offered (panic mode).</summary>
    public bool Panic { get; } = panic;

    public int Count => Available.Count + Unavailable.Length;
}

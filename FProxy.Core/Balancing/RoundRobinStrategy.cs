namespace FProxy.Balancing;

/// <summary>
/// Each new connection goes to the next target in turn. One rotation per app, shared by all of
/// its ports; lock-free (one interlocked increment) and allocation-free.
/// </summary>
public sealed class RoundRobinStrategy : IStrategy
{
    private uint _counter = uint.MaxValue;

    /// <summary>Creates a rotation starting at the first target.</summary>
    public RoundRobinStrategy()
    {
    }

    /// <summary>Creates a rotation whose next pick follows <paramref name="lastIssued"/> (tests start it near the wrap).</summary>
    /// <param name="lastIssued">The counter value treated as already issued.</param>
    internal RoundRobinStrategy(uint lastIssued) => _counter = lastIssued;

    /// <inheritdoc/>
    public int Next(in StrategyContext context)
    {
        // Unsigned arithmetic: the counter wraps from uint.MaxValue to 0 and the index stays in
        // range; at the wrap the rotation restarts at target 0 (a one-off skip, never an error).
        var ticket = Interlocked.Increment(ref _counter);
        return (int)(ticket % (uint)context.Targets.Count);
    }
}

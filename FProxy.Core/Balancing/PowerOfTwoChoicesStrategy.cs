namespace FProxy.Balancing;

/// <summary>
/// Each new connection goes to the less loaded of two distinct random targets (active
/// connections per unit of weight, read live; the first drawn on a tie). Nearly as even as
/// <see cref="LeastConnectionsStrategy"/> at a constant cost, and it does not send a burst of
/// connections to the one least loaded target before their counts catch up (the "herd" a full
/// scan causes). Uses <see cref="Random.Shared"/>, which is thread-safe and allocation-free.
/// </summary>
public sealed class PowerOfTwoChoicesStrategy : IStrategy
{
    private readonly Random _random;

    /// <summary>Creates the strategy; it reads the targets and their loads from <see cref="StrategyContext.Targets"/>.</summary>
    public PowerOfTwoChoicesStrategy()
        : this(Random.Shared)
    {
    }

    /// <summary>Creates the strategy with its own random source (tests pass a seeded one, and then call it from one thread).</summary>
    internal PowerOfTwoChoicesStrategy(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
    }

    /// <inheritdoc/>
    public int Next(in StrategyContext context)
    {
        var targets = context.Targets.AsSpan();
        var count = targets.Length;
        if (count == 1)
        {
            return 0;
        }

        // The second index is drawn from the other count - 1 targets, so the two always differ
        // and every pair is equally likely.
        var first = _random.Next(count);
        var second = _random.Next(count - 1);
        if (second >= first)
        {
            second++;
        }

        var a = targets[first];
        var b = targets[second];
        return TargetLoad.IsLower(b.ActiveConnections, b.Weight, a.ActiveConnections, a.Weight) ? second : first;
    }
}

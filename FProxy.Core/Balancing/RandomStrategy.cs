namespace FProxy.Balancing;

/// <summary>Placeholder for the Random strategy (being implemented).</summary>
public sealed class RandomStrategy : IStrategy
{
    /// <summary>Creates the strategy for <paramref name="targets"/>.</summary>
    /// <param name="targets">The available targets it picks from.</param>
    public RandomStrategy(TargetSet targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
    }

    /// <inheritdoc/>
    public int Next(in StrategyContext context) => 0;
}

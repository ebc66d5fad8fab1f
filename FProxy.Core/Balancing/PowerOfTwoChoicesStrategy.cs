namespace FProxy.Balancing;

/// <summary>Placeholder for the PowerOfTwoChoices strategy (being implemented).</summary>
public sealed class PowerOfTwoChoicesStrategy : IStrategy
{

    /// <inheritdoc/>
    public int Next(in StrategyContext context) => 0;
}

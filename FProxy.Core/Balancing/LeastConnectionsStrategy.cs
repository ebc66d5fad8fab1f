namespace FProxy.Balancing;

/// <summary>Placeholder for the LeastConnections strategy (being implemented).</summary>
public sealed class LeastConnectionsStrategy : IStrategy
{

    /// <inheritdoc/>
    public int Next(in StrategyContext context) => 0;
}

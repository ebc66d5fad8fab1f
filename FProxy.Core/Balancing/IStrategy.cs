namespace FProxy.Balancing;

/// <summary>
/// Chooses where a new connection goes. A strategy is made for one set of available targets
/// (<see cref="StrategyRegistry"/> creates it when the set changes: a reload, a target turning
/// healthy or unhealthy) and serves every port of its app concurrently, so <see cref="Next"/>
/// must be thread-safe, lock-free and allocation-free. Precompute in the constructor.
/// </summary>
public interface IStrategy
{
    /// <summary>
    /// Returns the index, in <c>0 .. context.Targets.Count - 1</c>, of the first target to try.
    /// When it cannot be reached the connector tries the following indices in order, wrapping,
    /// each target at most once, then the targets that are not available.
    /// </summary>
    /// <param name="context">The new connection and the available targets.</param>
    int Next(in StrategyContext context);
}

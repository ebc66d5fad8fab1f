namespace FProxy.Balancing;

/// <summary>
/// Chooses where a new connection goes. One instance serves one app (all of its ports) and is
/// called concurrently from every accept loop, so <see cref="Next"/> must be thread-safe,
/// lock-free and allocation-free.
/// </summary>
public interface IStrategy
{
    /// <summary>
    /// Returns the index, in <c>0 .. context.TargetCount - 1</c>, of the first target to try.
    /// When it cannot be reached the connector tries the following indices in order, wrapping,
    /// each target at most once.
    /// </summary>
    /// <param name="context">The new connection.</param>
    int Next(in StrategyContext context);
}

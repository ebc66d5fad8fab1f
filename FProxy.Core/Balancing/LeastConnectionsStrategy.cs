namespace FProxy.Balancing;

/// <summary>
/// Each new connection goes to the target with the fewest active connections per unit of weight
/// (<see cref="TargetState.ActiveConnections"/> / <see cref="TargetState.Weight"/>), read live at
/// each pick. Equally loaded targets take turns: the scan starts one target further each pick.
/// A pick reads every target, so its cost grows with their number (see StrategyBenchmarks).
/// </summary>
public sealed class LeastConnectionsStrategy : IStrategy
{
    private uint _start = uint.MaxValue;

    /// <summary>Creates the strategy; it reads the targets and their loads from <see cref="StrategyContext.Targets"/>.</summary>
    public LeastConnectionsStrategy()
    {
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

        // Without a rotating start, an idle pool (all loads 0, or a burst of connects that have
        // not been counted yet) would send every connection to target 0. Strict "lower" below
        // keeps the first of equals in scan order, so equals share the load in turn.
        var start = (int)(Interlocked.Increment(ref _start) % (uint)count);
        var best = start;
        var bestActive = targets[start].ActiveConnections;
        var bestWeight = targets[start].Weight;
        for (var step = 1; step < count; step++)
        {
            var i = start + step;
            if (i >= count)
            {
                i -= count;
            }

            var target = targets[i];
            var active = target.ActiveConnections;
            var weight = target.Weight;
            if (TargetLoad.IsLower(active, weight, bestActive, bestWeight))
            {
                best = i;
                bestActive = active;
                bestWeight = weight;
            }
        }

        return best;
    }
}

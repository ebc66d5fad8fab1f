namespace FProxy.Balancing;

/// <summary>
/// Each new connection goes to a random target, in proportion to the weights. Equal weights take
/// one bounded random number; unequal weights a random point in <c>[0, TotalWeight)</c> located
/// by binary search over the weights' running sums, precomputed per target set. Uses
/// <see cref="System.Random.Shared"/>, which is thread-safe and allocation-free.
/// </summary>
public sealed class RandomStrategy : IStrategy
{
    private readonly Random _random;
    private readonly int _count;

    /// <summary>Running sums of the weights (entry i is the total weight of targets 0..i); null when all weights are equal.</summary>
    private readonly int[]? _runningSums;

    /// <summary>Creates the strategy for <paramref name="targets"/>.</summary>
    /// <param name="targets">The available targets it picks from; <see cref="Next"/> returns indices into this set.</param>
    public RandomStrategy(TargetSet targets)
        : this(targets, Random.Shared)
    {
    }

    /// <summary>Creates the strategy with its own random source (tests pass a seeded one, and then call it from one thread).</summary>
    internal RandomStrategy(TargetSet targets, Random random)
    {
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(random);
        _random = random;
        _count = targets.Count;
        if (targets.HasEqualWeights)
        {
            return;
        }

        // Weights are at most 1000, so this overflows only beyond two million targets; checked,
        // so that would fail the build of the strategy (round robin stands in) rather than misroute.
        _runningSums = new int[_count];
        var sum = 0;
        for (var i = 0; i < _count; i++)
        {
            sum = checked(sum + targets[i].Weight);
            _runningSums[i] = sum;
        }
    }

    /// <inheritdoc/>
    public int Next(in StrategyContext context)
    {
        var sums = _runningSums;
        if (sums is null)
        {
            return _random.Next(_count);
        }

        // The target whose range [sums[i-1], sums[i]) holds the point: the first sum above it.
        var point = _random.Next(sums[^1]);
        int low = 0, high = sums.Length - 1;
        while (low < high)
        {
            var middle = (int)((uint)(low + high) >> 1);
            if (sums[middle] > point)
            {
                high = middle;
            }
            else
            {
                low = middle + 1;
            }
        }

        return low;
    }
}

namespace FProxy.Balancing;

/// <summary>
/// Smooth weighted round robin, as nginx does it: over one cycle each target gets exactly its
/// weight's share, interleaved rather than in runs (weights 5, 1, 1 give a a b a c a a). The
/// cycle is computed once per target set, so a pick is one interlocked increment and a table
/// read. Equal weights are a plain rotation: 0, 1, 2, ...
/// </summary>
public sealed class WeightedRoundRobinStrategy : IStrategy
{
    /// <summary>
    /// The longest cycle kept (256 KB of indices). Weights are first divided by their greatest
    /// common divisor; a cycle that is still longer (many targets with large, coprime weights:
    /// 1000 targets of weights 1..1000 would need 500,500 picks) has its weights scaled down in
    /// proportion, rounded to the nearest pick and kept at 1 or more. Heavy targets keep their
    /// ratios closely (of weights 1..1000, 1000 and 100 get 128 and 13 picks); only a target whose
    /// share is a few picks of the cycle is rounded noticeably.
    /// </summary>
    internal const int MaxCycle = 65_536;

    private readonly int _count;

    /// <summary>The target of each pick of one cycle; null when all weights are equal (the cycle is 0..Count-1).</summary>
    private readonly int[]? _cycle;

    private uint _counter = uint.MaxValue;

    /// <summary>Creates the strategy for <paramref name="targets"/>.</summary>
    /// <param name="targets">The available targets it picks from; <see cref="Next"/> returns indices into this set.</param>
    public WeightedRoundRobinStrategy(TargetSet targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        _count = targets.Count;
        if (!targets.HasEqualWeights)
        {
            _cycle = BuildCycle(Reduce(targets));
        }
    }

    /// <summary>The number of picks after which the sequence repeats.</summary>
    internal int CycleLength => _cycle?.Length ?? _count;

    /// <inheritdoc/>
    public int Next(in StrategyContext context)
    {
        // Unsigned: the counter wraps from uint.MaxValue to 0 and the index stays in range; at
        // the wrap the cycle restarts from its beginning (a one-off skip, never an error).
        var ticket = Interlocked.Increment(ref _counter);
        var cycle = _cycle;
        return cycle is null ? (int)(ticket % (uint)_count) : cycle[ticket % (uint)cycle.Length];
    }

    /// <summary>The weights divided by their common divisor, scaled down if their sum exceeds <see cref="MaxCycle"/>.</summary>
    private static int[] Reduce(TargetSet targets)
    {
        var weights = new int[targets.Count];
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] = targets[i].Weight;
        }

        var total = DivideByCommonDivisor(weights);
        if (total > MaxCycle)
        {
            // Each weight becomes its share of the budget rounded to the nearest integer, at
            // least 1: never more than one above the exact share, so the sum stays within
            // budget + count = MaxCycle (or is one pick per target, when there are more targets).
            var budget = Math.Max(0, MaxCycle - weights.Length);
            for (var i = 0; i < weights.Length; i++)
            {
                weights[i] = (int)Math.Max(1, ((weights[i] * (long)budget) + (total / 2)) / total);
            }

            DivideByCommonDivisor(weights);
        }

        return weights;
    }

    /// <summary>Divides <paramref name="weights"/> by their greatest common divisor, in place; returns their new sum.</summary>
    private static long DivideByCommonDivisor(int[] weights)
    {
        var divisor = 0;
        foreach (var weight in weights)
        {
            divisor = Gcd(divisor, weight);
        }

        long total = 0;
        for (var i = 0; i < weights.Length; i++)
        {
            weights[i] /= divisor;
            total += weights[i];
        }

        return total;
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }

    /// <summary>
    /// nginx's smooth weighted round robin (ngx_http_upstream_get_peer), run for one cycle: each
    /// step every target's current value grows by its weight, the largest (the first of equals)
    /// is picked and loses the total. After <c>total</c> steps every value is back at 0, so the
    /// sequence repeats. O(total x count): at most 65 M steps, once per target set, off the data path.
    /// </summary>
    private static int[] BuildCycle(int[] weights)
    {
        var total = 0;
        foreach (var weight in weights)
        {
            total += weight;
        }

        var cycle = new int[total];
        var current = new int[weights.Length];
        for (var step = 0; step < cycle.Length; step++)
        {
            var best = 0;
            for (var i = 0; i < weights.Length; i++)
            {
                current[i] += weights[i];
                if (current[i] > current[best])
                {
                    best = i;
                }
            }

            current[best] -= total;
            cycle[step] = best;
        }

        return cycle;
    }
}

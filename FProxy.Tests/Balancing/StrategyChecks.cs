using System.Buffers.Binary;
using System.Net;
using FProxy.Balancing;

namespace FProxy.Tests.Balancing;

/// <summary>What every strategy's tests measure the same way: counts, concurrency, allocations, and client addresses.</summary>
internal static class StrategyChecks
{
    /// <summary>How many of <paramref name="picks"/> went to each target (an out-of-range pick throws).</summary>
    public static int[] Count(IStrategy strategy, StrategyContext context, int picks)
    {
        var counts = new int[context.Targets.Count];
        for (var i = 0; i < picks; i++)
        {
            counts[strategy.Next(context)]++;
        }

        return counts;
    }

    /// <summary>Distinct IPv4 clients 10.x.y.z (sequential, so any clustering would come from the hash), on <paramref name="port"/>.</summary>
    public static IPEndPoint V4Client(int index, int port = 40_000) =>
        new(new IPAddress([10, (byte)(index >> 16), (byte)(index >> 8), (byte)index]), port);

    /// <summary>Distinct IPv6 clients fd00::index.</summary>
    public static IPEndPoint V6Client(int index, int port = 40_000)
    {
        var bytes = new byte[16];
        bytes[0] = 0xFD;
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(12), index);
        return new IPEndPoint(new IPAddress(bytes), port);
    }

    /// <summary>Bytes this thread allocated over 10,000 picks, after a warm-up (first calls JIT and create the thread's random state).</summary>
    public static long AllocatedBytes(IStrategy strategy, StrategyContext[] contexts)
    {
        for (var i = 0; i < 1_000; i++)
        {
            strategy.Next(in contexts[i % contexts.Length]);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            strategy.Next(in contexts[i % contexts.Length]);
        }

        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    /// <summary>
    /// Picks from several threads started together, each cycling through <paramref name="contexts"/>
    /// (which share one target set); returns the counts per target and the picks out of range.
    /// </summary>
    public static async Task<(int[] Counts, int OutOfRange)> PickConcurrentlyAsync(
        IStrategy strategy, StrategyContext[] contexts, int threads, int picksPerThread, Action<TargetState>? onPick = null)
    {
        var targets = contexts[0].Targets;
        var counts = new int[targets.Count];
        var outOfRange = 0;
        using var start = new Barrier(threads);
        await Task.WhenAll(Enumerable.Range(0, threads).Select(_ => Task.Factory.StartNew(
            () =>
            {
                var local = new int[targets.Count];
                var bad = 0;
                start.SignalAndWait();
                for (var i = 0; i < picksPerThread; i++)
                {
                    var pick = strategy.Next(in contexts[i % contexts.Length]);
                    if ((uint)pick < (uint)local.Length)
                    {
                        local[pick]++;
                        onPick?.Invoke(targets[pick]);
                    }
                    else
                    {
                        bad++;
                    }
                }

                lock (counts)
                {
                    for (var t = 0; t < local.Length; t++)
                    {
                        counts[t] += local[t];
                    }

                    outOfRange += bad;
                }
            },
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default)));

        return (counts, outOfRange);
    }

    /// <summary>Pearson's chi-square statistic of <paramref name="counts"/> against <paramref name="shares"/> of their total.</summary>
    public static double ChiSquare(int[] counts, double[] shares)
    {
        double total = counts.Sum();
        var statistic = 0.0;
        for (var i = 0; i < counts.Length; i++)
        {
            var expected = total * shares[i];
            statistic += (counts[i] - expected) * (counts[i] - expected) / expected;
        }

        return statistic;
    }

    /// <summary>Opens <paramref name="active"/>[i] connections on target i (as the connector counts them).</summary>
    public static TargetSet WithLoads(TargetSet targets, params int[] active)
    {
        for (var i = 0; i < active.Length; i++)
        {
            for (var n = 0; n < active[i]; n++)
            {
                targets[i].Enter();
            }
        }

        return targets;
    }
}

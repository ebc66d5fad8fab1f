using System.Net;
using BenchmarkDotNet.Attributes;
using FProxy.Balancing;
using FProxy.Configuration;

namespace FProxy.Benchmarks;

/// <summary>
/// One pick of each built-in strategy, called through <see cref="IStrategy"/> as the connector
/// calls it. A pick runs once per new connection, so it must stay far below the connect latency
/// and allocate nothing. <see cref="Threads"/> 1 is one thread alone; more runs the same picks
/// split over that many threads at once (all cores), so shared counters and cache lines are
/// contended: Mean is then wall time per pick of all threads together (per-thread cost is Mean
/// times Threads). Each invocation makes <see cref="PicksPerInvoke"/> picks, cycling through 1024
/// contexts with distinct client addresses (ConsistentHash then searches different parts of
/// its ring, as real clients make it); targets carry a few active connections each.
/// </summary>
[MemoryDiagnoser]
public class StrategyBenchmarks
{
    /// <summary>Enough picks that the two barrier phases of a contended invocation cost well under 1% of it.</summary>
    public const int PicksPerInvoke = 1 << 16;

    private const int ContextCount = 1024;

    private StrategyContext[] _contexts = [];
    private IStrategy _roundRobin = null!;
    private IStrategy _random = null!;
    private IStrategy _leastConnections = null!;
    private IStrategy _powerOfTwoChoices = null!;
    private IStrategy _weightedRoundRobin = null!;
    private IStrategy _consistentHash = null!;
    private ContendedPicks? _contended;

    [Params(3, 1000)]
    public int Targets { get; set; }

    /// <summary>Weights 1..10 rather than all 1: Random and WeightedRoundRobin leave their equal-weight shortcuts.</summary>
    [Params(false, true)]
    public bool Weighted { get; set; }

    [ParamsSource(nameof(ThreadCounts))]
    public int Threads { get; set; }

    public static IEnumerable<int> ThreadCounts => Environment.ProcessorCount > 1 ? [1, Environment.ProcessorCount] : [1];

    [GlobalSetup]
    public void Setup()
    {
        var weighted = Weighted;
        var targets = new TargetSet(Enumerable.Range(0, Targets).Select(i =>
            new TargetState(new TargetConfig("10.1.0.1", 1000 + i) { Weight = weighted ? 1 + (i % 10) : 1 })));
        for (var i = 0; i < targets.Count; i++)
        {
            for (var n = 0; n < i * 7 % 5; n++)
            {
                targets[i].Enter();
            }
        }

        _contexts = [.. Enumerable.Range(0, ContextCount).Select(i =>
            new StrategyContext(targets, new IPEndPoint(new IPAddress([192, 168, (byte)(i >> 8), (byte)i]), 40_000 + i), 5000))];
        _roundRobin = new RoundRobinStrategy();
        _random = new RandomStrategy(targets);
        _leastConnections = new LeastConnectionsStrategy();
        _powerOfTwoChoices = new PowerOfTwoChoicesStrategy();
        _weightedRoundRobin = new WeightedRoundRobinStrategy(targets);
        _consistentHash = new ConsistentHashStrategy(targets);
        _contended = Threads > 1 ? new ContendedPicks(Threads) : null;
    }

    [GlobalCleanup]
    public void Cleanup() => _contended?.Dispose();

    [Benchmark(OperationsPerInvoke = PicksPerInvoke)]
    public int RoundRobin() => Run(_roundRobin);

    [Benchmark(OperationsPerInvoke = PicksPerInvoke)]
    public int Random() => Run(_random);

    [Benchmark(OperationsPerInvoke = PicksPerInvoke)]
    public int LeastConnections() => Run(_leastConnections);

    [Benchmark(OperationsPerInvoke = PicksPerInvoke)]
    public int PowerOfTwoChoices() => Run(_powerOfTwoChoices);

    [Benchmark(OperationsPerInvoke = PicksPerInvoke)]
    public int WeightedRoundRobin() => Run(_weightedRoundRobin);

    [Benchmark(OperationsPerInvoke = PicksPerInvoke)]
    public int ConsistentHash() => Run(_consistentHash);

    /// <summary>Makes <paramref name="picks"/> picks; the sum of the indices keeps the calls from being optimised away.</summary>
    internal static int Pick(IStrategy strategy, StrategyContext[] contexts, int picks)
    {
        var sum = 0;
        for (var i = 0; i < picks; i++)
        {
            sum += strategy.Next(in contexts[i & (ContextCount - 1)]);
        }

        return sum;
    }

    private int Run(IStrategy strategy) =>
        _contended is { } contended ? contended.Run(strategy, _contexts, PicksPerInvoke) : Pick(strategy, _contexts, PicksPerInvoke);

    /// <summary>
    /// Threads started once, in setup, that pick together when released: the benchmark thread
    /// and the others meet at a barrier before and after their share of the picks, so an
    /// invocation measures only the picks (and two barrier phases), not thread start-up.
    /// </summary>
    private sealed class ContendedPicks : IDisposable
    {
        private readonly Barrier _barrier;
        private readonly Thread[] _workers;
        private IStrategy? _strategy;
        private StrategyContext[] _contexts = [];
        private int _picksEach;
        private volatile bool _stopping;

        public ContendedPicks(int threads)
        {
            _barrier = new Barrier(threads);
            _workers = new Thread[threads - 1];
            for (var i = 0; i < _workers.Length; i++)
            {
                _workers[i] = new Thread(Work) { IsBackground = true, Name = $"picker {i + 1}" };
                _workers[i].Start();
            }
        }

        public int Run(IStrategy strategy, StrategyContext[] contexts, int picks)
        {
            _strategy = strategy;
            _contexts = contexts;
            _picksEach = picks / _barrier.ParticipantCount;
            _barrier.SignalAndWait();
            var sum = Pick(strategy, contexts, _picksEach);
            _barrier.SignalAndWait();
            return sum;
        }

        public void Dispose()
        {
            _stopping = true;
            _barrier.SignalAndWait();
            foreach (var worker in _workers)
            {
                worker.Join();
            }

            _barrier.Dispose();
        }

        private void Work()
        {
            while (true)
            {
                _barrier.SignalAndWait();
                if (_stopping)
                {
                    return;
                }

                Pick(_strategy!, _contexts, _picksEach);
                _barrier.SignalAndWait();
            }
        }
    }
}

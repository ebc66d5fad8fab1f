using BenchmarkDotNet.Attributes;
using FProxy.Balancing;

namespace FProxy.Benchmarks;

/// <summary>
/// One pick of <see cref="RoundRobinStrategy"/>, single-threaded (no contention on its counter).
/// Runs once per new connection, so it must stay in the nanoseconds and allocate nothing; the
/// target count only changes the divisor of the modulo.
/// </summary>
[MemoryDiagnoser]
public class StrategyBenchmarks
{
    private readonly RoundRobinStrategy _strategy = new();
    private StrategyContext _context;

    [Params(3, 1000)]
    public int Targets { get; set; }

    [GlobalSetup]
    public void Setup() => _context = new StrategyContext(new TargetSet(Enumerable.Range(1, Targets).Select(static i => new TargetState(new FProxy.Configuration.TargetConfig("127.0.0.1", i)))), null, 5000);

    [Benchmark]
    public int RoundRobinNext() => _strategy.Next(in _context);
}

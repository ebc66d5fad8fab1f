using FProxy.Balancing;
using FProxy.Configuration;

namespace FProxy.Tests.Balancing;

/// <summary>Target sets for strategy tests: loopback targets on ports 1..n, with optional weights.</summary>
internal static class TestTargets
{
    public static TargetSet Set(int count) => new(Enumerable.Range(1, count).Select(static i => new TargetState(new TargetConfig("127.0.0.1", i))));

    public static TargetSet Weighted(params int[] weights) =>
        new(weights.Select(static (w, i) => new TargetState(new TargetConfig("127.0.0.1", i + 1) { Weight = w })));

    public static StrategyContext Context(TargetSet targets, int port = 1) => new(targets, null, port);
}

using FProxy.Configuration;

namespace FProxy.Balancing;

/// <summary>
/// Strategies by name, as config's <c>"Strategy"</c> refers to them (case-insensitively). Holds
/// the built-ins; a custom strategy is one class implementing <see cref="IStrategy"/> plus one
/// <see cref="Add(string, Func{TargetSet, IStrategy})"/> line (see docs/extending.md).
/// </summary>
public sealed class StrategyRegistry
{
    /// <summary>Each new connection goes to the next target in turn (the default).</summary>
    public const string RoundRobin = "RoundRobin";

    /// <summary>A random target, in proportion to the weights.</summary>
    public const string Random = "Random";

    /// <summary>The target with the fewest active connections per unit of weight.</summary>
    public const string LeastConnections = "LeastConnections";

    /// <summary>The less loaded of two random targets (active connections per unit of weight).</summary>
    public const string PowerOfTwoChoices = "PowerOfTwoChoices";

    /// <summary>Smooth weighted round robin, as nginx does it.</summary>
    public const string WeightedRoundRobin = "WeightedRoundRobin";

    /// <summary>Client-IP affinity on a hash ring: adding or removing one of N targets moves about 1/N of clients.</summary>
    public const string ConsistentHash = "ConsistentHash";

    private readonly NamedFactories<Func<TargetSet, IStrategy>> _factories = new();

    /// <summary>Creates a registry holding the built-in strategies.</summary>
    public StrategyRegistry()
    {
        Add(RoundRobin, static _ => new RoundRobinStrategy());
        Add(Random, static targets => new RandomStrategy(targets));
        Add(LeastConnections, static _ => new LeastConnectionsStrategy());
        Add(PowerOfTwoChoices, static _ => new PowerOfTwoChoicesStrategy());
        Add(WeightedRoundRobin, static targets => new WeightedRoundRobinStrategy(targets));
        Add(ConsistentHash, static targets => new ConsistentHashStrategy(targets));
    }

    /// <summary>The built-in strategy names.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } =
        [RoundRobin, Random, LeastConnections, PowerOfTwoChoices, WeightedRoundRobin, ConsistentHash];

    /// <summary>Every registered name, built-ins first, as registered.</summary>
    public IReadOnlyList<string> Names => _factories.Names;

    /// <summary>
    /// Registers a strategy. <paramref name="factory"/> is called off the data path each time the
    /// app's available targets change, with the new set; precompute there.
    /// </summary>
    /// <param name="name">The name config uses; letters, digits, '-' and '_'. Replaces a registration of the same name.</param>
    /// <param name="factory">Makes a strategy for one set of available targets.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or has other characters.</exception>
    public StrategyRegistry Add(string name, Func<TargetSet, IStrategy> factory)
    {
        _factories.Add(name, factory);

        return this;
    }

    /// <summary>Registers <typeparamref name="TStrategy"/>, created with its parameterless constructor for each target set.</summary>
    /// <typeparam name="TStrategy">The strategy; it reads the targets from <see cref="StrategyContext.Targets"/>.</typeparam>
    /// <param name="name">The name config uses.</param>
    /// <returns>This registry, for chaining.</returns>
    public StrategyRegistry Add<TStrategy>(string name)
        where TStrategy : IStrategy, new() => Add(name, static _ => new TStrategy());

    /// <summary>Whether <paramref name="name"/> is registered (case-insensitively).</summary>
    /// <param name="name">A strategy name.</param>
    public bool Contains(string name) => _factories.Contains(name);

    /// <summary>Makes the strategy <paramref name="name"/> for <paramref name="targets"/>.</summary>
    internal IStrategy Create(string name, TargetSet targets) => _factories[name](targets);
}

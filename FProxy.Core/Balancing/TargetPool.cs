using Microsoft.Extensions.Logging;

namespace FProxy.Balancing;

/// <summary>
/// The targets one strategy spreads connections over: an app's own, or one rule's. Holds the
/// current <see cref="PoolSnapshot"/> behind one volatile reference, which health changes replace
/// (off the data path), so a pick never blocks or allocates. When no target is available every
/// target is offered (panic mode), logged once on entering and once on leaving.
/// </summary>
internal sealed class TargetPool
{
    private readonly TargetState[] _members;
    private readonly string _strategy;
    private readonly StrategyRegistry _registry;
    private readonly ILogger _logger;
    private readonly Lock _sync = new();
    private PoolSnapshot _current = null!;

    public TargetPool(string app, string label, TargetState[] members, string strategy, StrategyRegistry registry, ILogger logger)
    {
        App = app;
        Label = label;
        _members = members;
        _strategy = strategy;
        _registry = registry;
        _logger = logger;
        Republish();
    }

    public string App { get; }

    /// <summary>"the app" (its own targets) or "rule 2": which part of the app, for logs.</summary>
    public string Label { get; }

    public bool Contains(TargetState target) => Array.IndexOf(_members, target) >= 0;

    public PoolSnapshot Current => Volatile.Read(ref _current);

    /// <summary>Builds and publishes a snapshot from the members' health now. Cheap enough per change, never per connection.</summary>
    public void Republish()
    {
        lock (_sync)
        {
            var available = Array.FindAll(_members, static t => t.IsAvailable);
            var panic = available.Length == 0;
            var unavailable = panic ? [] : Array.FindAll(_members, static t => !t.IsAvailable);
            var set = new TargetSet(panic ? _members : available);
            var previous = _current;
            var strategy = previous is not null && SameTargets(previous.Available, set) ? previous.Strategy : CreateStrategy(set);
            Volatile.Write(ref _current, new PoolSnapshot(set, strategy, unavailable, panic));

            if (panic && previous is not { Panic: true })
            {
                BalancingLog.PanicStarted(_logger, App, Label, _members.Length);
            }
            else if (!panic && previous is { Panic: true })
            {
                BalancingLog.PanicEnded(_logger, App, Label, available.Length, _members.Length);
            }
        }
    }

    private static bool SameTargets(TargetSet a, TargetSet b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (!ReferenceEquals(a[i], b[i]) || a[i].Weight != b[i].Weight)
            {
                return false;
            }
        }

        return true;
    }

    private IStrategy CreateStrategy(TargetSet set)
    {
        try
        {
            return _registry.Create(_strategy, set);
        }
#pragma warning disable CA1031 // A faulty custom strategy must not stop the rollout: round robin stands in, and it is logged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            BalancingLog.StrategyFailed(_logger, App, _strategy, e);
            return new RoundRobinStrategy();
        }
    }
}

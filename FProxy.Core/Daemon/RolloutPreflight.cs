using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Health;
using FProxy.Routing;

namespace FProxy.Daemon;

/// <summary>
/// Before a rollout touches anything: the plug-in code it will run (strategy and probe factories)
/// is run first, so a factory that throws rejects the whole snapshot and nothing is half-applied.
/// </summary>
internal static class RolloutPreflight
{
    /// <summary>
    /// Creates, for every app that is new or changed (against <paramref name="running"/>), each
    /// strategy its pools use and its health probe. Under the daemon's gate, before the reconcile.
    /// </summary>
    /// <returns>The probes made, by app, for the rollout to use (so no factory runs twice for them).</returns>
    /// <exception cref="RolloutException">A factory threw; it names the app, the plug-in and why. Nothing changed.</exception>
    public static Dictionary<string, IHealthProbe> Run(ProxyConfig config, IReadOnlyDictionary<string, AppRoute> running, ProxyDaemonOptions options)
    {
        var probes = new Dictionary<string, IHealthProbe>(StringComparer.Ordinal);
        foreach (var app in config.Apps)
        {
            var before = running.GetValueOrDefault(app.Name)?.Config;
            if (app.Equals(before))
            {
                continue;
            }

            TryCreateStrategy(options.Strategies, app, app.Strategy, app.Targets, "the app");
            for (var i = 0; i < app.Rules.Count; i++)
            {
                TryCreateStrategy(options.Strategies, app, app.Rules[i].Strategy ?? app.Strategy, app.Rules[i].Targets, $"rule {i + 1}");
            }

            if (app.HealthCheck is { } check && !check.Equals(before?.HealthCheck))
            {
                try
                {
                    probes[app.Name] = options.Probes.Create(check);
                }
#pragma warning disable CA1031 // Whatever a plug-in throws rejects the rollout; it is reported, not thrown past the daemon.
                catch (Exception e)
#pragma warning restore CA1031
                {
                    throw new RolloutException($"app \"{app.Name}\": probe \"{check.Probe}\" could not be created: {e.Message}", e);
                }
            }
        }

        return probes;
    }

    /// <summary>
    /// Creates the strategy once over stand-in targets (the real ones are made by the rollout),
    /// so that a factory that throws at construction stops the rollout before it starts.
    /// </summary>
    private static void TryCreateStrategy(StrategyRegistry strategies, AppConfig app, string strategy, EquatableList<TargetConfig> targets, string pool)
    {
        var set = new TargetSet(targets.Select(t => new TargetState(t)));
        try
        {
            _ = strategies.Create(strategy, set);
        }
#pragma warning disable CA1031 // As above.
        catch (Exception e)
#pragma warning restore CA1031
        {
            throw new RolloutException($"app \"{app.Name}\" ({pool}): strategy \"{strategy}\" could not be created: {e.Message}", e);
        }
    }
}

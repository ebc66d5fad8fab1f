using System.Buffers;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Dns;
using FProxy.Health;
using FProxy.Routing;

namespace FProxy.Daemon;

/// <content>Applying a snapshot: names checked, routes built, ports added, removed, rerouted or rebound.</content>
public sealed partial class ProxyDaemon
{
    /// <summary>The route app <paramref name="app"/> uses now, for tests and diagnostics.</summary>
    internal AppRoute? GetRoute(string app) => _routes.GetValueOrDefault(app);

    private void Reconcile(ProxyConfig config, Dictionary<string, IHealthProbe> probes)
    {
        var version = Interlocked.Increment(ref _version);
        var hash = ConfigHash.Compute(config);
        _listeners.BeginRollout();
        Publish(DaemonEventKind.RolloutStarted, null, null, null, $"rollout of version {version} (hash {hash[..12]}) started: {config.Apps.Count} app(s)");
        var routes = new Dictionary<string, AppRoute>(StringComparer.Ordinal);
        foreach (var app in config.Apps)
        {
            // An unchanged app keeps its route object, and with it its strategies' state. Target
            // health lives in the app's AppHealth, which a changed app keeps too.
            if (_routes.TryGetValue(app.Name, out var running) && running.Config.Equals(app))
            {
                routes[app.Name] = running;
                continue;
            }

            if (!_health.TryGetValue(app.Name, out var health))
            {
                var name = app.Name;
                health = new AppHealth(name, new AppTargets(), _time, _healthLogger, _connector.ConnectOrThrowAsync)
                {
                    Observer = (target, transition, reason) => OnTargetHealthChanged(name, target, transition, reason),
                };
                lock (_sync)
                {
                    _health.Add(app.Name, health);
                }
            }

            health.Update(app, _options.Probes, probes.GetValueOrDefault(app.Name));
            routes[app.Name] = new AppRoute(app, health, _options.Strategies, _time, _healthLogger,
                _routes.TryGetValue(app.Name, out var previous) ? previous.Limits : null);
        }

        foreach (var (name, health) in _health.ToArray())
        {
            if (!routes.ContainsKey(name))
            {
                health.Stop();
                lock (_sync)
                {
                    _health.Remove(name);
                }
            }
        }

        int added = 0, removed = 0, rerouted = 0, rebound = 0;
        foreach (var change in ConfigDiff.Compute(Current, config))
        {
            var route = change.After is { } app ? routes[app.Name] : null;
            switch (change.Kind)
            {
                case PortChangeKind.Removed:
                    _listeners.Remove(change.Port);
                    removed++;
                    break;
                case PortChangeKind.Added:
                    _listeners.Add(change.Port, route!);
                    added++;
                    break;
                case PortChangeKind.Rerouted:
                    _listeners.Reroute(change.Port, route!);
                    rerouted += change.OnlyPortsChanged ? 0 : 1;
                    break;
                case PortChangeKind.Rebound:
                    _listeners.Rebind(change.Port, route!);
                    rebound++;
                    break;
            }
        }

        lock (_sync)
        {
            _routes = routes;
        }

        // Connection series of a port or app that left the config leave the metrics once their
        // connections have drained.
        _metrics.Connections.Retain(config.Apps.SelectMany(static a => a.Ports.Select(p => (a.Name, p))).ToHashSet());
        _resolver.SetNames(config.Apps
            .SelectMany(static a => a.AllTargets())
            .Where(static t => t.Address is null)
            .Select(static t => t.Host)
            .Distinct(StringComparer.OrdinalIgnoreCase));
        Volatile.Write(ref _current, config);
        Volatile.Write(ref _hash, hash);
        var sweep = config.Apps.Select(static a => a.IdleTimeout / 4).Append(IdleSweepInterval).Min() ?? IdleSweepInterval;
        sweep = sweep < MinIdleSweepInterval ? MinIdleSweepInterval : sweep;
        _idleSweep.Change(sweep, sweep);
        _appliedAt = _time.GetUtcNow();
        _applied = true;
        DaemonLog.ConfigApplied(_logger, version, hash[..12], config.Apps.Count, routes.Values.Sum(static r => r.Config.Ports.Count), added, removed, rerouted, rebound);
        _metrics.Rollout(_listeners.BindFailures == 0 ? "applied" : "partial");
        Publish(DaemonEventKind.RolloutApplied, null, null, null, _listeners.BindFailures == 0
            ? $"version {version} (hash {hash[..12]}) applied"
            : $"version {version} (hash {hash[..12]}) applied; {_listeners.BindFailures} port(s) not bound yet, retrying");
        foreach (var app in config.Apps)
        {
            if (app.AllTargets().All(static t => t.Address is null))
            {
                _listeners.Track(CheckResolvableAsync(app, version));
            }
        }
    }

    /// <summary>
    /// An app none of whose target names resolve is applied all the same (the names may appear)
    /// but reported, since until then every connection to it fails.
    /// </summary>
    private async Task CheckResolvableAsync(AppConfig app, long version)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
        var names = app.AllTargets().Select(static t => t.Host).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var answers = await Task.WhenAll(names.Select(async name =>
        {
            try
            {
                return await _resolver.GetAsync(name, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return DnsAnswer.Failed($"lookup of \"{name}\" did not finish within 10s");
            }
        })).ConfigureAwait(false);
        if (Version != version || answers.Any(static a => a.Error is null && a.Addresses.Length > 0))
        {
            return;
        }

        var reasons = string.Join("; ", answers.Select(static a => a.Error ?? "no address"));
        DaemonLog.AppUnresolvable(_logger, app.Name, reasons);
        Publish(DaemonEventKind.RolloutFailed, app.Name, null, null, $"{app.Name}: none of its targets resolve ({reasons}); applied anyway, it recovers when they do");
    }
}

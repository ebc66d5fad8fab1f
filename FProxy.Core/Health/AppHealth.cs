using System.Net.Sockets;
using FProxy.Balancing;
using FProxy.Configuration;
using Microsoft.Extensions.Logging;

namespace FProxy.Health;

/// <summary>
/// The health of one app's targets, kept across reloads for as long as the app exists: one
/// <see cref="TargetState"/> per distinct target (its own and its rules'), one checker loop per
/// target when HealthCheck is set. Each health change is logged and republished to the pools of
/// the app's current route.
/// </summary>
internal sealed class AppHealth
{
    private readonly string _app;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Func<TargetConfig, CancellationToken, ValueTask<Socket>> _connect;
    private readonly AppTargets _targets;
    private readonly Dictionary<string, TargetHealth> _health = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HealthChecker> _checkers = new(StringComparer.Ordinal);
    private readonly Action<TargetState, HealthTransition, string> _onChanged;
    private HealthCheckConfig? _check;
    private IHealthProbe? _probe;
    private TargetPool[] _pools = [];

    /// <param name="app">The app's name, for logs.</param>
    /// <param name="targets">The app's target states (the daemon's): each one's verdict is set here.</param>
    /// <param name="time">The clock of checks and ejections.</param>
    /// <param name="logger">Where health changes are logged.</param>
    /// <param name="connect">Opens a probe's connection to a target.</param>
    public AppHealth(string app, AppTargets targets, TimeProvider time, ILogger logger, Func<TargetConfig, CancellationToken, ValueTask<Socket>> connect)
    {
        _targets = targets;
        _app = app;
        _time = time;
        _logger = logger;
        _connect = connect;
        _onChanged = OnChanged;
    }

    /// <summary>The state of the target with <paramref name="key"/>, after <see cref="Update"/> included it.</summary>
    public TargetState this[string key] => _targets[key];

    /// <summary>Every target of the app now; safe to read from any thread (metrics, status).</summary>
    public TargetState[] Targets => _targets.All;

    /// <summary>Told of every health change after it is logged (the daemon turns them into events).</summary>
    public Action<TargetState, HealthTransition, string>? Observer { get; set; }

    /// <summary>
    /// Follows a new config of the app: its targets (<see cref="AppTargets.Update"/>) each get a
    /// health of their own, those removed are forgotten, and checkers (re)start when HealthCheck
    /// changed. Called by the daemon under its gate, never concurrently.
    /// </summary>
    public void Update(AppConfig config, ProbeRegistry probes, IHealthProbe? prepared = null)
    {
        var (added, removed) = _targets.Update(config);
        foreach (var state in removed)
        {
            var key = state.Config.Key;
            StopChecker(key);
            state.Outcomes = null;
            if (_health.Remove(key, out var gone))
            {
                gone.Stop();
            }
        }

        foreach (var health in _health.Values)
        {
            health.Passive = config.PassiveHealth;
        }

        foreach (var state in added)
        {
            var health = new TargetHealth(state, _time, config.PassiveHealth) { Changed = _onChanged };
            _health.Add(state.Config.Key, health);
            state.Outcomes = health;
        }

        // Validation gave each target one header across the app's targets and rules.
        foreach (var target in config.Targets)
        {
            _health[target.Key].ProbeHeader = config.ProxyProtocol;
        }

        foreach (var rule in config.Rules)
        {
            foreach (var target in rule.Targets)
            {
                _health[target.Key].ProbeHeader = rule.ProxyProtocol ?? config.ProxyProtocol;
            }
        }

        var check = config.HealthCheck;
        if (!Equals(check, _check))
        {
            foreach (var key in _checkers.Keys.ToArray())
            {
                StopChecker(key);
            }

            foreach (var health in _health.Values)
            {
                if (check is null)
                {
                    health.ChecksStopped();
                }
                else
                {
                    health.ChecksRestarted();
                }
            }

            _probe = check is null ? null : prepared ?? CreateProbe(probes, check);
        }

        _check = check;
        if (check is not null)
        {
            foreach (var (key, health) in _health)
            {
                if (!_checkers.ContainsKey(key))
                {
                    var checker = new HealthChecker(_app, health, check, _probe!, _connect, _time, _logger);
                    _checkers.Add(key, checker);
                    checker.Start();
                }
            }
        }
    }

    /// <summary>The pools of the app's route now in force: they get new snapshots on each change.</summary>
    public void Attach(TargetPool[] pools) => Volatile.Write(ref _pools, pools);

    /// <summary>The app left the config or the daemon stops: no checker or timer runs for it any more.</summary>
    public void Stop()
    {
        foreach (var key in _checkers.Keys.ToArray())
        {
            StopChecker(key);
        }

        foreach (var health in _health.Values)
        {
            health.Stop();
        }

        Volatile.Write(ref _pools, []);
    }

    private void StopChecker(string key)
    {
        if (_checkers.Remove(key, out var checker))
        {
            checker.Stop();
        }
    }

    private void OnChanged(TargetState target, HealthTransition transition, string reason)
    {
        var name = target.ToString();
        switch (transition)
        {
            case HealthTransition.Unhealthy:
                BalancingLog.TargetUnhealthy(_logger, _app, name, reason);
                break;
            case HealthTransition.Healthy:
                BalancingLog.TargetHealthy(_logger, _app, name, reason);
                break;
            case HealthTransition.Ejected:
                BalancingLog.TargetEjected(_logger, _app, name, reason);
                break;
            case HealthTransition.Returned:
                BalancingLog.TargetReturned(_logger, _app, name, reason);
                break;
        }

        Observer?.Invoke(target, transition, reason);

        // A change can be seen on the data path (a connect failure ejecting its target), and
        // building a snapshot may be costly (a hash ring over 1,000 targets): never there.
        ThreadPool.UnsafeQueueUserWorkItem(static s => s.Health.Republish(s.Target), (Health: this, Target: target), preferLocal: false);
    }

    private void Republish(TargetState target)
    {
        foreach (var pool in Volatile.Read(ref _pools))
        {
            if (pool.Contains(target))
            {
                pool.Republish();
            }
        }
    }

    private IHealthProbe CreateProbe(ProbeRegistry probes, HealthCheckConfig check)
    {
        try
        {
            return probes.Create(check);
        }
#pragma warning disable CA1031 // A faulty custom probe factory must not stop the rollout: the TCP probe stands in, and it is logged.
        catch (Exception e)
#pragma warning restore CA1031
        {
            BalancingLog.ProbeFactoryFailed(_logger, _app, check.Probe, e);
            return TcpProbe.Instance;
        }
    }
}

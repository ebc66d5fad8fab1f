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
    private readonly Dictionary<string, TargetState> _targets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HealthChecker> _checkers = new(StringComparer.Ordinal);
    private readonly Action<TargetState, HealthTransition, string> _onChanged;
    private HealthCheckConfig? _check;
    private IHealthProbe? _probe;
    private TargetPool[] _pools = [];
    private TargetState[] _published = [];

    public AppHealth(string app, TimeProvider time, ILogger logger, Func<TargetConfig, CancellationToken, ValueTask<Socket>> connect)
    {
        _app = app;
        _time = time;
        _logger = logger;
        _connect = connect;
        _onChanged = OnChanged;
    }

    /// <summary>The state of the target with <paramref name="key"/>, after <see cref="Update"/> included it.</summary>
    public TargetState this[string key] => _targets[key];

    /// <summary>Every target of the app now; safe to read from any thread (metrics, status).</summary>
    public TargetState[] Targets => Volatile.Read(ref _published);

    /// <summary>Told of every health change after it is logged (the daemon turns them into events).</summary>
    public Action<TargetState, HealthTransition, string>? Observer { get; set; }

    /// <summary>
    /// Follows a new config of the app: keeps the state of targets that stay, adds new ones
    /// (healthy), forgets those removed, and (re)starts checkers when HealthCheck changed. Called
    /// by the daemon under its gate, never concurrently.
    /// </summary>
    public void Update(AppConfig config, ProbeRegistry probes, IHealthProbe? prepared = null)
    {
        var wanted = config.AllTargets().ToDictionary(static t => t.Key, StringComparer.Ordinal);
        foreach (var (key, state) in _targets.ToArray())
        {
            if (!wanted.ContainsKey(key))
            {
                StopChecker(key);
                state.Health.Stop();
                _targets.Remove(key);
            }
        }

        foreach (var (key, target) in wanted)
        {
            if (_targets.TryGetValue(key, out var state))
            {
                state.Config = target;
                state.Health.Passive = config.PassiveHealth;
            }
            else
            {
                state = new TargetState(target, _time, config.PassiveHealth);
                state.Health.Changed = _onChanged;
                _targets.Add(key, state);
            }
        }

        Volatile.Write(ref _published, [.. _targets.Values]);
        var check = config.HealthCheck;
        if (!Equals(check, _check))
        {
            foreach (var key in _checkers.Keys.ToArray())
            {
                StopChecker(key);
            }

            foreach (var state in _targets.Values)
            {
                if (check is null)
                {
                    state.Health.ChecksStopped();
                }
                else
                {
                    state.Health.ChecksRestarted();
                }
            }

            _probe = check is null ? null : prepared ?? CreateProbe(probes, check);
        }

        _check = check;
        if (check is not null)
        {
            foreach (var (key, state) in _targets)
            {
                if (!_checkers.ContainsKey(key))
                {
                    var checker = new HealthChecker(_app, state, check, _probe!, _connect, _time, _logger);
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

        foreach (var state in _targets.Values)
        {
            state.Health.Stop();
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

using FProxy.Balancing;
using FProxy.Configuration;

namespace FProxy.Health;

/// <summary>
/// The health of one target of one app: the verdict of active checks and the passive ejection
/// state. Connect results arrive from the data path (lock-free unless they change the verdict);
/// probe results from the target's one checker loop. Each change is reported to the app
/// (<see cref="Changed"/>), which publishes new target snapshots.
/// </summary>
internal sealed class TargetHealth : IConnectOutcomes
{
    private readonly TargetState _target;
    private readonly TimeProvider _time;
    private readonly Lock _sync = new();
    private PassiveHealthConfig _passive;
    private volatile bool _probeHealthy = true;
    private volatile bool _ejected;
    private int _connectFailures;
    private int _ejections;
    private int _probesPassed;
    private int _probesFailed;
    private int _generation;
    private ITimer? _ejectionTimer;

    public TargetHealth(TargetState target, TimeProvider time, PassiveHealthConfig passive)
    {
        _target = target;
        _time = time;
        _passive = passive;
    }

    /// <summary>The target judged; its <see cref="TargetState.IsAvailable"/> follows each verdict.</summary>
    public TargetState Target => _target;

    /// <summary>Called after each change, outside any lock: the target, what happened, and why.</summary>
    public Action<TargetState, HealthTransition, string>? Changed { get; set; }

    public bool IsAvailable => _probeHealthy && !_ejected;

    public bool IsEjected => _ejected;

    /// <summary>The PROXY protocol version of the target's connections: its probes begin with a LOCAL header of it.</summary>
    public Configuration.ProxyProtocolVersion ProbeHeader { get; set; }

    public PassiveHealthConfig Passive
    {
        get => Volatile.Read(ref _passive);
        set => Volatile.Write(ref _passive, value);
    }

    /// <summary>A connection to the target was opened: ends a failure streak, and after a return, the backoff.</summary>
    public void ConnectSucceeded()
    {
        // Read first: on the common path nothing changes, and a write would bounce the cache line.
        if (Volatile.Read(ref _connectFailures) != 0)
        {
            Volatile.Write(ref _connectFailures, 0);
        }

        if (Volatile.Read(ref _ejections) != 0 && !_ejected)
        {
            Volatile.Write(ref _ejections, 0);
        }
    }

    /// <summary>A connect to the target failed (refused, timed out, unresolvable).</summary>
    public void ConnectFailed(string reason)
    {
        var passive = Passive;
        if (!passive.Enabled || _ejected)
        {
            return;
        }

        // At or past the threshold (a reload may have lowered it mid-streak); Eject lets only
        // the first caller through.
        if (Interlocked.Increment(ref _connectFailures) >= passive.ConsecutiveFailures)
        {
            Eject(passive, reason);
        }
    }

    /// <summary>
    /// Which round of checkers may report: a checker takes it when it starts, and a restart or a
    /// stop of the checks moves it on, so a stopped checker's late verdict is ignored.
    /// </summary>
    public int Generation => Volatile.Read(ref _generation);

    /// <summary>
    /// One probe's verdict. <paramref name="generation"/> is the checker's (see
    /// <see cref="Generation"/>); null skips that check (tests).
    /// </summary>
    public void ProbeCompleted(bool passed, string? reason, HealthCheckConfig config, int? generation = null)
    {
        HealthTransition? change = null;
        string? why = null;
        bool ejected;
        lock (_sync)
        {
            if (generation is { } g && g != _generation)
            {
                return; // A checker stopped by a reload: its verdict no longer counts.
            }

            ejected = _ejected;
            if (passed)
            {
                _probesFailed = 0;
                if (!_probeHealthy && ++_probesPassed >= config.HealthyThreshold)
                {
                    SetProbeHealthy(true);
                    _probesPassed = 0;
                    (change, why) = (HealthTransition.Healthy, $"{config.HealthyThreshold} check(s) in a row passed");
                }
            }
            else
            {
                _probesPassed = 0;
                if (_probeHealthy && ++_probesFailed >= config.UnhealthyThreshold)
                {
                    SetProbeHealthy(false);
                    _probesFailed = 0;
                    (change, why) = (HealthTransition.Unhealthy, $"{config.UnhealthyThreshold} check(s) in a row failed, last: {reason}");
                }
            }
        }

        if (passed && ejected)
        {
            // The target answers checks again: no reason to wait out the ejection.
            EndEjection("an active check passed");
        }

        if (change is { } transition)
        {
            Changed?.Invoke(_target, transition, why!);
        }
    }

    /// <summary>The checks restart with new settings: counts start over, the verdict stands.</summary>
    public void ChecksRestarted()
    {
        lock (_sync)
        {
            _generation++;
            _probesPassed = 0;
            _probesFailed = 0;
        }
    }

    /// <summary>Active checks stopped (config removed them): their verdict no longer applies.</summary>
    public void ChecksStopped()
    {
        bool wasUnhealthy;
        lock (_sync)
        {
            _generation++;
            _probesPassed = 0;
            _probesFailed = 0;
            wasUnhealthy = !_probeHealthy;
            SetProbeHealthy(true);
        }

        if (wasUnhealthy)
        {
            Changed?.Invoke(_target, HealthTransition.Healthy, "health checks were turned off");
        }
    }

    /// <summary>The target left the config: no timer may fire for it any more.</summary>
    public void Stop()
    {
        Changed = null;
        lock (_sync)
        {
            _ejectionTimer?.Dispose();
            _ejectionTimer = null;
        }
    }

    private void Eject(PassiveHealthConfig passive, string reason)
    {
        TimeSpan duration;
        lock (_sync)
        {
            if (_ejected)
            {
                return;
            }

            // Base, 2x, 4x ... capped; the shift is bounded so it cannot overflow.
            var factor = 1L << Math.Min(_ejections, 30);
            duration = TimeSpan.FromTicks(Math.Min(passive.BaseEjection.Ticks * factor, passive.MaxEjection.Ticks));
            _ejections++;
            SetEjected(true);
            _ejectionTimer?.Dispose();
            _ejectionTimer = _time.CreateTimer(static s => ((TargetHealth)s!).EndEjection(null), this, duration, Timeout.InfiniteTimeSpan);
        }

        Changed?.Invoke(_target, HealthTransition.Ejected,
            $"ejected for {Duration.Format(duration)} after {passive.ConsecutiveFailures} connect failure(s) in a row, last: {reason}");
    }

    private void EndEjection(string? why)
    {
        lock (_sync)
        {
            if (!_ejected)
            {
                return;
            }

            SetEjected(false);
            _connectFailures = 0;
            _ejectionTimer?.Dispose();
            _ejectionTimer = null;
        }

        Changed?.Invoke(_target, HealthTransition.Returned, why ?? "ejection time over");
    }

    private void SetProbeHealthy(bool healthy)
    {
        _probeHealthy = healthy;
        _target.SetHealth(IsAvailable, _ejected);
    }

    private void SetEjected(bool ejected)
    {
        _ejected = ejected;
        _target.SetHealth(IsAvailable, _ejected);
    }
}

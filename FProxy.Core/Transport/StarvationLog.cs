namespace FProxy.Transport;

/// <summary>
/// Decides when an accept loop short of descriptors logs: once when a burst starts, once when it
/// first accepts again. A burst only ends after <see cref="QuietPeriod"/> without a failure, so a
/// proxy running right at its limit (one connection ends, one is accepted, the next waits) logs
/// twice per quiet period, not twice per connection. Shared by a listener's accept loops (one per
/// I/O thread); only failures and recoveries take its lock.
/// </summary>
internal sealed class StarvationLog(TimeProvider time)
{
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(10);

    private readonly Lock _gate = new();
    private long _lastFailure;
    private int _failures;
    private bool _inBurst;
    private bool _recoveryLogged;

    /// <summary>Failures since the last successful accept.</summary>
    public bool Starved => Volatile.Read(ref _failures) > 0;

    /// <summary>Counts a failure; true when it starts a new burst (log it).</summary>
    public bool Fail()
    {
        using var _ = _gate.EnterScope();
        var now = time.GetTimestamp();
        var newBurst = !_inBurst || time.GetElapsedTime(_lastFailure, now) > QuietPeriod;
        _lastFailure = now;
        _failures++;
        if (newBurst)
        {
            _inBurst = true;
            _recoveryLogged = false;
        }

        return newBurst;
    }

    /// <summary>An accept succeeded after failures; true (with the count) the first time in a burst.</summary>
    public bool Recover(out int failures)
    {
        using var _ = _gate.EnterScope();
        failures = _failures;
        _failures = 0;
        if (_recoveryLogged)
        {
            return false;
        }

        _recoveryLogged = true;
        return true;
    }
}

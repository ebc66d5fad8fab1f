namespace FProxy.Configuration;

/// <summary>
/// Passive health (outlier ejection): a target that fails <see cref="ConsecutiveFailures"/>
/// connects in a row is taken out of rotation for <see cref="BaseEjection"/>, doubled on each
/// further ejection up to <see cref="MaxEjection"/>; a successful connect after it returned
/// resets the doubling. Works with or without active health checks.
/// </summary>
/// <param name="Enabled">Whether connect failures eject targets.</param>
/// <param name="ConsecutiveFailures">Connect failures in a row that eject a target.</param>
/// <param name="BaseEjection">How long the first ejection lasts.</param>
/// <param name="MaxEjection">The longest an ejection lasts, however often it repeats.</param>
public sealed record PassiveHealthConfig(bool Enabled, int ConsecutiveFailures, TimeSpan BaseEjection, TimeSpan MaxEjection)
{
    /// <summary>On: 3 failures in a row eject for 5 s, then 10 s, 20 s ... at most 2 min.</summary>
    public static PassiveHealthConfig Default { get; } = new(true, 3, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2));

    /// <summary>Connect failures never eject a target.</summary>
    public static PassiveHealthConfig Off { get; } = new(false, 0, TimeSpan.Zero, TimeSpan.Zero);
}

namespace FProxy.Health;

/// <summary>
/// Checks one target, off the data path, every <c>HealthCheck.Interval</c>. A custom probe kind
/// is one class implementing this plus one <see cref="ProbeRegistry.Add(string, Func{Configuration.HealthCheckConfig, IHealthProbe})"/>
/// line; config selects it with <c>"HealthCheck": {"Probe": "name"}</c>.
/// </summary>
public interface IHealthProbe
{
    /// <summary>
    /// Probes <see cref="HealthProbeContext.Target"/>. An exception counts as a failure with its
    /// message as the reason; so does running past <c>HealthCheck.Timeout</c>, which cancels
    /// <paramref name="cancellationToken"/>.
    /// </summary>
    /// <param name="context">The target, the check's settings, and a way to connect to it.</param>
    /// <param name="cancellationToken">Cancelled at the probe's timeout or when checking stops.</param>
    ValueTask<HealthProbeResult> CheckAsync(HealthProbeContext context, CancellationToken cancellationToken);
}

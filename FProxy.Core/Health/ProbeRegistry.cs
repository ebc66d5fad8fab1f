using FProxy.Configuration;

namespace FProxy.Health;

/// <summary>
/// Health probe kinds by name, as <c>"HealthCheck": {"Probe": ...}</c> refers to them
/// (case-insensitively): the built-in <c>tcp</c> and <c>send-expect</c>, plus custom ones.
/// </summary>
public sealed class ProbeRegistry
{
    private readonly NamedFactories<Func<HealthCheckConfig, IHealthProbe>> _factories = new();

    /// <summary>Creates a registry holding the built-in probes.</summary>
    public ProbeRegistry()
    {
        Add(HealthCheckConfig.TcpProbe, static _ => TcpProbe.Instance);
        Add(HealthCheckConfig.SendExpectProbe, static config => new SendExpectProbe(config));
    }

    /// <summary>The built-in probe kinds.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } = [HealthCheckConfig.TcpProbe, HealthCheckConfig.SendExpectProbe];

    /// <summary>Every registered kind, built-ins first.</summary>
    public IReadOnlyList<string> Names => _factories.Names;

    /// <summary>
    /// Registers a probe kind. <paramref name="factory"/> is called when an app's health check
    /// settings are applied; the probe it returns checks every target of the app, concurrently.
    /// </summary>
    /// <param name="name">The name config uses; letters, digits, '-' and '_'. Replaces a registration of the same name.</param>
    /// <param name="factory">Makes a probe for one app's settings.</param>
    /// <returns>This registry, for chaining.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or has other characters.</exception>
    public ProbeRegistry Add(string name, Func<HealthCheckConfig, IHealthProbe> factory)
    {
        _factories.Add(name, factory);

        return this;
    }

    /// <summary>Registers <typeparamref name="TProbe"/>, created with its parameterless constructor.</summary>
    /// <typeparam name="TProbe">The probe; it reads the settings from <see cref="HealthProbeContext.Config"/>.</typeparam>
    /// <param name="name">The name config uses.</param>
    /// <returns>This registry, for chaining.</returns>
    public ProbeRegistry Add<TProbe>(string name)
        where TProbe : IHealthProbe, new() => Add(name, static _ => new TProbe());

    /// <summary>Whether <paramref name="name"/> is registered (case-insensitively).</summary>
    /// <param name="name">A probe kind.</param>
    public bool Contains(string name) => _factories.Contains(name);

    internal IHealthProbe Create(HealthCheckConfig config) => _factories[config.Probe](config);
}

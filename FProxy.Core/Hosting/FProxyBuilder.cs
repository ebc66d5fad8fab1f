using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FProxy.Hosting;

/// <summary>
/// Adds plug-ins and the config source to the FProxy that
/// <see cref="FProxyServiceCollectionExtensions.AddFProxy"/> registered:
/// <code>
/// builder.Services.AddFProxy(builder.Configuration.GetSection("FProxy"))
///     .AddStrategy("Sticky", targets => new StickyStrategy(targets))
///     .UseConfigSource(sp => new MyConfigSource());
/// </code>
/// </summary>
public sealed class FProxyBuilder
{
    internal FProxyBuilder(IServiceCollection services) => Services = services;

    /// <summary>The host's services, for registrations of your own.</summary>
    public IServiceCollection Services { get; }

    /// <summary>
    /// Reports to systemd (a <c>Type=notify</c> unit): <c>READY=1</c> once the first config is
    /// applied, <c>STOPPING=1</c> when shutdown begins. Does nothing when the process was not
    /// started by systemd (no NOTIFY_SOCKET), so it is safe to call always.
    /// </summary>
    /// <returns>This builder.</returns>
    public FProxyBuilder UseSystemd()
    {
        Services.TryAddSingleton<Microsoft.Extensions.Hosting.Systemd.ISystemdNotifier, Microsoft.Extensions.Hosting.Systemd.SystemdNotifier>();
        Services.AddHostedService<SystemdNotification>();
        return this;
    }

    /// <summary>Strategy and probe registrations, applied to the daemon's options when it is made.</summary>
    internal List<Action<ProxyDaemonOptions>> Plugins { get; } = [];

    /// <summary>Registers a strategy by name; see <see cref="StrategyRegistry.Add(string, Func{TargetSet, IStrategy})"/>.</summary>
    /// <param name="name">The name config uses in <c>"Strategy"</c>.</param>
    /// <param name="factory">Makes the strategy for each set of available targets.</param>
    /// <returns>This builder.</returns>
    public FProxyBuilder AddStrategy(string name, Func<TargetSet, IStrategy> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        Plugins.Add(o => o.Strategies.Add(name, factory));
        return this;
    }

    /// <summary>Registers <typeparamref name="TStrategy"/> by name, made with its parameterless constructor.</summary>
    /// <typeparam name="TStrategy">The strategy.</typeparam>
    /// <param name="name">The name config uses in <c>"Strategy"</c>.</param>
    /// <returns>This builder.</returns>
    public FProxyBuilder AddStrategy<TStrategy>(string name)
        where TStrategy : IStrategy, new()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Plugins.Add(o => o.Strategies.Add<TStrategy>(name));
        return this;
    }

    /// <summary>Registers a health probe kind by name; see <see cref="ProbeRegistry.Add(string, Func{HealthCheckConfig, IHealthProbe})"/>.</summary>
    /// <param name="name">The name config uses in <c>"HealthCheck": {"Probe": ...}</c>.</param>
    /// <param name="factory">Makes the probe for an app's check settings.</param>
    /// <returns>This builder.</returns>
    public FProxyBuilder AddProbe(string name, Func<HealthCheckConfig, IHealthProbe> factory)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(factory);
        Plugins.Add(o => o.Probes.Add(name, factory));
        return this;
    }

    /// <summary>Registers <typeparamref name="TProbe"/> by name, made with its parameterless constructor.</summary>
    /// <typeparam name="TProbe">The probe.</typeparam>
    /// <param name="name">The name config uses in <c>"HealthCheck": {"Probe": ...}</c>.</param>
    /// <returns>This builder.</returns>
    public FProxyBuilder AddProbe<TProbe>(string name)
        where TProbe : IHealthProbe, new()
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Plugins.Add(o => o.Probes.Add<TProbe>(name));
        return this;
    }

    /// <summary>
    /// Takes snapshots from <paramref name="factory"/>'s source instead of the config file
    /// (<see cref="FProxyOptions.ConfigPath"/>). One source: a later call replaces an earlier one.
    /// </summary>
    /// <param name="factory">Makes the source; the daemon (for its <see cref="ProxyDaemon.Schema"/>) can be resolved from the provider.</param>
    /// <returns>This builder.</returns>
    public FProxyBuilder UseConfigSource(Func<IServiceProvider, IConfigSubscriber> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Services.RemoveAll<IConfigSubscriber>();
        Services.AddSingleton(factory);
        return this;
    }

    /// <summary>Sets what configuration cannot express (bind retry delays, a custom DNS set-up) on the daemon's options.</summary>
    /// <param name="configure">Runs after the options and the plug-ins are applied.</param>
    /// <returns>This builder.</returns>
    public FProxyBuilder ConfigureDaemon(Action<ProxyDaemonOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        Services.AddSingleton(new DaemonConfiguration(configure));
        return this;
    }

    /// <summary>One <see cref="ConfigureDaemon"/> call, kept in the container.</summary>
    internal sealed record DaemonConfiguration(Action<ProxyDaemonOptions> Configure);
}

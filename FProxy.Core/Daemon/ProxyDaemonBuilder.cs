using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Health;
using Microsoft.Extensions.Logging;

namespace FProxy.Daemon;

/// <summary>
/// Builds a <see cref="ProxyDaemon"/> with plug-ins. A custom strategy or health probe is one
/// class plus one line here, then usable by name in config:
/// <code>
/// await using var daemon = new ProxyDaemonBuilder()
///     .AddStrategy("FirstUp", targets => new FirstUpStrategy())
///     .Build();
/// var config = ConfigParser.Parse(json, "config.json", daemon.Schema);
/// </code>
/// </summary>
public sealed class ProxyDaemonBuilder
{
    private ILoggerFactory? _loggerFactory;
    private TimeProvider? _timeProvider;

    /// <summary>The daemon's settings; registrations made here land in its registries.</summary>
    public ProxyDaemonOptions Options { get; } = new();

    /// <summary>Registers a strategy by name; see <see cref="StrategyRegistry.Add(string, Func{TargetSet, IStrategy})"/>.</summary>
    /// <param name="name">The name config uses in <c>"Strategy"</c>.</param>
    /// <param name="factory">Makes the strategy for each set of available targets.</param>
    /// <returns>This builder.</returns>
    public ProxyDaemonBuilder AddStrategy(string name, Func<TargetSet, IStrategy> factory)
    {
        Options.Strategies.Add(name, factory);
        return this;
    }

    /// <summary>Registers <typeparamref name="TStrategy"/> by name, made with its parameterless constructor.</summary>
    /// <typeparam name="TStrategy">The strategy.</typeparam>
    /// <param name="name">The name config uses in <c>"Strategy"</c>.</param>
    /// <returns>This builder.</returns>
    public ProxyDaemonBuilder AddStrategy<TStrategy>(string name)
        where TStrategy : IStrategy, new()
    {
        Options.Strategies.Add<TStrategy>(name);
        return this;
    }

    /// <summary>Registers a health probe kind by name; see <see cref="ProbeRegistry.Add(string, Func{HealthCheckConfig, IHealthProbe})"/>.</summary>
    /// <param name="name">The name config uses in <c>"HealthCheck": {"Probe": ...}</c>.</param>
    /// <param name="factory">Makes the probe for an app's check settings.</param>
    /// <returns>This builder.</returns>
    public ProxyDaemonBuilder AddProbe(string name, Func<HealthCheckConfig, IHealthProbe> factory)
    {
        Options.Probes.Add(name, factory);
        return this;
    }

    /// <summary>Registers <typeparamref name="TProbe"/> by name, made with its parameterless constructor.</summary>
    /// <typeparam name="TProbe">The probe.</typeparam>
    /// <param name="name">The name config uses in <c>"HealthCheck": {"Probe": ...}</c>.</param>
    /// <returns>This builder.</returns>
    public ProxyDaemonBuilder AddProbe<TProbe>(string name)
        where TProbe : IHealthProbe, new()
    {
        Options.Probes.Add<TProbe>(name);
        return this;
    }

    /// <summary>Changes other settings (DNS, bind retries).</summary>
    /// <param name="configure">Edits <see cref="Options"/>.</param>
    /// <returns>This builder.</returns>
    public ProxyDaemonBuilder Configure(Action<ProxyDaemonOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(Options);
        return this;
    }

    /// <summary>Sends the daemon's logs to <paramref name="loggerFactory"/>.</summary>
    /// <param name="loggerFactory">Where logs go.</param>
    /// <returns>This builder.</returns>
    public ProxyDaemonBuilder UseLogging(ILoggerFactory loggerFactory)
    {
        _loggerFactory = loggerFactory;
        return this;
    }

    /// <summary>Uses <paramref name="timeProvider"/> for every timeout, check interval and ejection.</summary>
    /// <param name="timeProvider">The clock.</param>
    /// <returns>This builder.</returns>
    public ProxyDaemonBuilder UseTimeProvider(TimeProvider timeProvider)
    {
        _timeProvider = timeProvider;
        return this;
    }

    /// <summary>Creates the daemon, with nothing running yet.</summary>
    /// <returns>A daemon; <see cref="ProxyDaemon.ApplyAsync"/> starts it.</returns>
    /// <exception cref="ArgumentException">A setting is invalid.</exception>
    public ProxyDaemon Build() => new(Options, _loggerFactory, _timeProvider);
}

using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Diagnostics;

namespace FProxy.Daemon;

/// <summary>
/// What a listener needs to forward a new connection for one app: its settings, targets and
/// strategy. Immutable; a reload that changes the app builds a new route and listeners swap
/// their reference, so new connections use it at once and open ones keep the route they began with.
/// </summary>
internal sealed class AppRoute
{
    public AppRoute(AppConfig config, IStrategy strategy, TimeProvider? time = null)
    {
        Config = config;
        NoTargetLog = new LogLimiter(time ?? TimeProvider.System, TimeSpan.FromSeconds(5));
        Strategy = strategy;
        Targets = [.. config.Targets];
    }

    public AppConfig Config { get; }

    public string Name => Config.Name;

    public TargetConfig[] Targets { get; }

    public IStrategy Strategy { get; }

    /// <summary>Rate limit for "no target reachable": during an outage every client fails.</summary>
    public LogLimiter NoTargetLog { get; }
}

namespace FProxy.Daemon;

/// <summary>Something an operator should know happened, as <see cref="ProxyDaemon.WatchEventsAsync"/> reports it.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Time">When.</param>
/// <param name="Version">The config version concerned (rollouts), or the version in force.</param>
/// <param name="App">The app concerned, if any.</param>
/// <param name="Port">The port concerned, if any.</param>
/// <param name="Target">The target concerned (<c>host:port</c>), if any.</param>
/// <param name="Message">A human-readable line saying what and why.</param>
public sealed record DaemonEvent(DaemonEventKind Kind, DateTimeOffset Time, long Version, string? App, int? Port, string? Target, string Message)
{
    /// <summary>The wire name: <c>rollout.started</c>, <c>port.bound</c>, <c>target.unhealthy</c> ...</summary>
    public string Type => Kind switch
    {
        DaemonEventKind.RolloutStarted => "rollout.started",
        DaemonEventKind.RolloutApplied => "rollout.applied",
        DaemonEventKind.RolloutFailed => "rollout.failed",
        DaemonEventKind.PortBound => "port.bound",
        DaemonEventKind.PortFailed => "port.failed",
        DaemonEventKind.TargetHealthy => "target.healthy",
        DaemonEventKind.TargetUnhealthy => "target.unhealthy",
        _ => Kind.ToString(),
    };
}

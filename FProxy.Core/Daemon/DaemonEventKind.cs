namespace FProxy.Daemon;

/// <summary>What a <see cref="DaemonEvent"/> reports. Its wire name (<see cref="DaemonEvent.Type"/>) is in parentheses.</summary>
public enum DaemonEventKind
{
    /// <summary>A config snapshot is being applied (<c>rollout.started</c>).</summary>
    RolloutStarted,

    /// <summary>A snapshot is in force (<c>rollout.applied</c>); ports that could not be bound are reported separately and retried.</summary>
    RolloutApplied,

    /// <summary>
    /// A snapshot, or part of it, failed (<c>rollout.failed</c>): an invalid config was rejected
    /// (nothing changed), a port could not be bound, or none of an app's targets resolve (the app
    /// is still applied and may recover).
    /// </summary>
    RolloutFailed,

    /// <summary>A port's listener is bound and accepting (<c>port.bound</c>).</summary>
    PortBound,

    /// <summary>A port could not be bound, or its listener failed; it is being retried (<c>port.failed</c>).</summary>
    PortFailed,

    /// <summary>A target takes connections again (<c>target.healthy</c>).</summary>
    TargetHealthy,

    /// <summary>A target failed its checks or was ejected (<c>target.unhealthy</c>).</summary>
    TargetUnhealthy,
}

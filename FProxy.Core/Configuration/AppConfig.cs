using System.Net;

namespace FProxy.Configuration;

/// <summary>
/// One app: the ports it listens on and the targets each accepted connection is forwarded to.
/// </summary>
public sealed record AppConfig
{
    /// <summary>Default listen backlog. The kernel caps it at net.core.somaxconn.</summary>
    public const int DefaultBacklog = 4096;

    /// <summary>Default for <see cref="ConnectTimeout"/>.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Default for <see cref="DrainTimeout"/>.</summary>
    public static readonly TimeSpan DefaultDrainTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The app's name, unique across apps.</summary>
    public required string Name { get; init; }

    /// <summary>TCP ports to listen on (1..65535), unique across all apps.</summary>
    public required EquatableList<int> Ports { get; init; }

    /// <summary>Where connections go, in config order.</summary>
    public required EquatableList<TargetConfig> Targets { get; init; }

    /// <summary>
    /// Address to listen on. <see langword="null"/> (the default) means "::" dual-stack, or
    /// 0.0.0.0 where the OS has no IPv6.
    /// </summary>
    public IPAddress? Bind { get; init; }

    /// <summary>Listen backlog.</summary>
    public int Backlog { get; init; } = DefaultBacklog;

    /// <summary>Budget for reaching a target, across every target tried for one client.</summary>
    public TimeSpan ConnectTimeout { get; init; } = DefaultConnectTimeout;

    /// <summary>
    /// How long open connections may go on after their listener closed (port removed, rebind,
    /// shutdown) before they are reset.
    /// </summary>
    public TimeSpan DrainTimeout { get; init; } = DefaultDrainTimeout;

    /// <summary>TCP keepalive on both sides of each connection.</summary>
    public KeepAliveConfig KeepAlive { get; init; } = KeepAliveConfig.Default;

    /// <summary>Listen settings that require a new socket when they change.</summary>
    internal bool SameListenSettings(AppConfig other) => Equals(Bind, other.Bind) && Backlog == other.Backlog;
}

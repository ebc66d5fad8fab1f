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

    /// <summary>Default for <see cref="SniTimeout"/>.</summary>
    public static readonly TimeSpan DefaultSniTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Default for <see cref="ProxyProtocolTimeout"/>.</summary>
    public static readonly TimeSpan DefaultProxyProtocolTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Default for <see cref="MaxPeekingConnections"/>.</summary>
    public const int DefaultMaxPeekingConnections = 1000;

    /// <summary>Default for <see cref="Strategy"/>.</summary>
    public const string DefaultStrategy = "RoundRobin";

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

    /// <summary>How connections are spread over the targets, by registered strategy name (case-insensitive).</summary>
    public string Strategy { get; init; } = DefaultStrategy;

    /// <summary>Routing rules, tried in order before the app's own targets; empty by default.</summary>
    public EquatableList<RuleConfig> Rules { get; init; } = EquatableList<RuleConfig>.Empty;

    /// <summary>
    /// How long a rule that matches on SNI waits for the client's first bytes; a client silent
    /// that long does not match, and the next rule is tried.
    /// </summary>
    public TimeSpan SniTimeout { get; init; } = DefaultSniTimeout;

    /// <summary>Active health checks of the targets, or null (the default) for none.</summary>
    public HealthCheckConfig? HealthCheck { get; init; }

    /// <summary>Ejection of targets after consecutive connect failures; on by default.</summary>
    public PassiveHealthConfig PassiveHealth { get; init; } = PassiveHealthConfig.Default;

    /// <summary>Whether each finished connection of this app is logged (category FProxy.Access); off by default.</summary>
    public bool AccessLog { get; init; }

    /// <summary>
    /// Most connections the app may have open at once, across its ports; null (the default) for
    /// no limit. A new connection beyond it is reset at once and counted as failed ("limit").
    /// </summary>
    public int? MaxConnections { get; init; }

    /// <summary>
    /// Most connections the app may have open at once from one client source, across its ports:
    /// one IPv4 address, or one IPv6 /64. Null (the default) for no limit. A new connection
    /// beyond it is reset at once and counted as failed ("source_limit"). With
    /// <see cref="AcceptProxyProtocol"/>, the source is the client the header names.
    /// </summary>
    public int? MaxConnectionsPerSource { get; init; }

    /// <summary>
    /// Most connections the app may hold at once while it waits for their PROXY protocol header
    /// or their TLS ClientHello (for SNI rules); null for no bound. A new connection that would
    /// wait beyond it is reset at once and counted as failed ("peek_limit"), so clients that open
    /// connections and send nothing hold at most this many descriptors, each for at most its
    /// timeout.
    /// </summary>
    public int? MaxPeekingConnections { get; init; } = DefaultMaxPeekingConnections;

    /// <summary>
    /// A connection with no bytes either way for this long is closed; null (the default) for
    /// never. Keepalive probes do not count as bytes.
    /// </summary>
    public TimeSpan? IdleTimeout { get; init; }

    /// <summary>
    /// The PROXY protocol header each connection to a target begins with, carrying the client's
    /// address and the address it connected to; <see cref="ProxyProtocolVersion.None"/> (the
    /// default) for none. Health probes of the app's targets send a LOCAL header (v1: UNKNOWN).
    /// </summary>
    public ProxyProtocolVersion ProxyProtocol { get; init; }

    /// <summary>
    /// Whether every connection must begin with a PROXY protocol header (v1 or v2), whose
    /// addresses then stand for the client's: rules, strategies, the access log and a header sent
    /// on. A connection without a valid header within <see cref="ProxyProtocolTimeout"/> is reset.
    /// </summary>
    public bool AcceptProxyProtocol { get; init; }

    /// <summary>How long a client may take to send its whole PROXY protocol header.</summary>
    public TimeSpan ProxyProtocolTimeout { get; init; } = DefaultProxyProtocolTimeout;

    /// <summary>
    /// With <see cref="AcceptProxyProtocol"/>: the address ranges (CIDR) allowed to send headers;
    /// connections from anywhere else are reset at once. Empty (the default) trusts every source.
    /// </summary>
    public EquatableList<string> TrustedProxies { get; init; } = EquatableList<string>.Empty;

    /// <summary>Every distinct target of the app, its own and its rules', by <see cref="TargetConfig.Key"/>.</summary>
    internal IEnumerable<TargetConfig> AllTargets() =>
        Targets.Concat(Rules.SelectMany(static r => r.Targets)).DistinctBy(static t => t.Key);

    /// <summary>Listen settings that require a new socket when they change.</summary>
    internal bool SameListenSettings(AppConfig other) => Equals(Bind, other.Bind) && Backlog == other.Backlog;
}

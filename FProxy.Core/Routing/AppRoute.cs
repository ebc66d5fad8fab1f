using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Diagnostics;
using FProxy.Health;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FProxy.Routing;

/// <summary>
/// What a listener needs to forward a new connection for one app: its settings, its rules and
/// its target pools. A reload that changes the app builds a new route and listeners swap their
/// reference, so new connections use it at once and open ones keep the route they began with.
/// Target state (health, counts) is not the route's: it lives in the app's <see cref="AppHealth"/>
/// and carries over.
/// </summary>
internal sealed class AppRoute
{
    private readonly AddressRanges _trustedProxies;

    public AppRoute(AppConfig config, AppHealth health, StrategyRegistry strategies, TimeProvider time, ILogger logger, AppLimits? limits = null)
    {
        Config = config;
        Health = health;
        Limits = limits ?? new AppLimits();
        NoTargetLog = new LogLimiter(time, TimeSpan.FromSeconds(5));
        HeaderLog = new LogLimiter(time, TimeSpan.FromSeconds(5));
        LimitLog = new LogLimiter(time, TimeSpan.FromSeconds(5));
        _trustedProxies = new AddressRanges(config.TrustedProxies, nameof(config));
        DefaultPool = new TargetPool(config.Name, "the app", Members(config.Targets), config.Strategy, strategies, logger);
        var rules = new RouteRule[config.Rules.Count];
        for (var i = 0; i < rules.Length; i++)
        {
            var rule = config.Rules[i];
            var pool = new TargetPool(config.Name, $"rule {i + 1}", Members(rule.Targets), rule.Strategy ?? config.Strategy, strategies, logger);
            rules[i] = new RouteRule(rule.Match, pool, rule.ProxyProtocol ?? config.ProxyProtocol);
        }

        Rules = rules;
        ReadsServerName = rules.Any(static r => r.NeedsServerName);
        TargetPool[] pools = [DefaultPool, .. rules.Select(static r => r.Pool)];
        health.Attach(pools);

        // A health change between the pools' first snapshots and Attach went to the old pools
        // only: take the snapshots again now that changes reach these.
        foreach (var pool in pools)
        {
            pool.Republish();
        }
    }

    /// <summary>A route with its own health state, no health checks and the built-in strategies (tests).</summary>
    public AppRoute(AppConfig config, TimeProvider? time = null)
        : this(config, Standalone(config, time ?? TimeProvider.System), new StrategyRegistry(), time ?? TimeProvider.System, NullLogger.Instance)
    {
    }

    public AppConfig Config { get; }

    public string Name => Config.Name;

    public AppHealth Health { get; }

    /// <summary>The counts behind the app's connection limits; shared by its routes across reloads.</summary>
    public AppLimits Limits { get; }

    /// <summary>Whether a rule matches on SNI, so that a connection may wait for its ClientHello.</summary>
    public bool ReadsServerName { get; }

    /// <summary>The app's own targets: where a connection goes that no rule matched.</summary>
    public TargetPool DefaultPool { get; }

    public RouteRule[] Rules { get; }

    /// <summary>
    /// Where a new <paramref name="connection"/> to <paramref name="port"/> goes: the first rule that
    /// matches, else the app's own targets. Address and port are checked before SNI, and the
    /// ClientHello is read at most once, only when a rule that still matches needs it. An app with
    /// no rules asks the connection nothing.
    /// </summary>
    public ValueTask<RouteChoice> ChooseAsync(IRouteRequest connection, int port) =>
        Rules.Length == 0 ? new(new RouteChoice(DefaultPool, null, Config.ProxyProtocol)) : ApplyRulesAsync(connection, port);

    /// <summary>Rate limit for "no target reachable": during an outage every client fails.</summary>
    public LogLimiter NoTargetLog { get; }

    /// <summary>Rate limit for rejected PROXY protocol headers: a scanner sends nothing but bad ones.</summary>
    public LogLimiter HeaderLog { get; }

    /// <summary>Rate limit for connections refused by the app's limits: a flood is refused by the thousand.</summary>
    public LogLimiter LimitLog { get; }

    /// <summary>Whether the app names TrustedProxies: only then is the peer's address needed before the header.</summary>
    public bool ChecksProxies => !_trustedProxies.IsEmpty;

    /// <summary>
    /// Whether <paramref name="peer"/> may send a PROXY protocol header: any source when the app
    /// names no TrustedProxies, else only those in one of its ranges.
    /// </summary>
    public bool IsTrusted(System.Net.IPAddress? peer) => _trustedProxies.IsEmpty || _trustedProxies.Contains(peer);

    private TargetState[] Members(EquatableList<TargetConfig> targets)
    {
        var members = new TargetState[targets.Count];
        for (var i = 0; i < members.Length; i++)
        {
            members[i] = Health[targets[i].Key];
        }

        return members;
    }

    private static AppHealth Standalone(AppConfig config, TimeProvider time)
    {
        var health = new AppHealth(config.Name, new AppTargets(), time, NullLogger.Instance, static (_, _) => throw new NotSupportedException("no health checks here"));
        health.Update(config with { HealthCheck = null }, new ProbeRegistry());
        return health;
    }

    private async ValueTask<RouteChoice> ApplyRulesAsync(IRouteRequest connection, int port)
    {
        var client = connection.ClientEndPoint?.Address;
        var peeked = false;
        string? serverName = null;
        foreach (var rule in Rules)
        {
            if (!rule.MatchesConnection(client, port))
            {
                continue;
            }

            if (rule.NeedsServerName)
            {
                if (!peeked)
                {
                    peeked = true;
                    var (name, failed) = await connection.PeekServerNameAsync(Config.SniTimeout).ConfigureAwait(false);
                    if (failed)
                    {
                        return new RouteChoice(null, null);
                    }

                    serverName = name;
                }

                if (!rule.MatchesServerName(serverName))
                {
                    continue;
                }
            }

            return new RouteChoice(rule.Pool, serverName, rule.Header);
        }

        return new RouteChoice(DefaultPool, serverName, Config.ProxyProtocol);
    }
}

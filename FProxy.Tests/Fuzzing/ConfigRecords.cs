using System.Net;
using CsCheck;
using FProxy.Configuration;

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// Config records as code or a custom source may build them, JSON or not: every field any value
/// its type holds, nulls included where the annotations say none (a deserializer puts them
/// there), undefined enum values, durations from negative to <see cref="TimeSpan.MaxValue"/>.
/// </summary>
internal static class ConfigRecords
{
    private static readonly Gen<TimeSpan> Time =
        Gen.OneOf(TimeSpan.Zero, TimeSpan.FromTicks(1), TimeSpan.FromMilliseconds(-1), TimeSpan.FromMilliseconds(99), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(1.5),
            TimeSpan.FromHours(577), TimeSpan.MaxValue, TimeSpan.MinValue);

    private static readonly Gen<int> Number = Gen.Frequency((3, Gen.Int[-1, 70_000]), (1, Gen.OneOf(int.MinValue, int.MaxValue, 0, 1, 65535, 65536, 1_000_001)));

    private static readonly Gen<string> Text = Gen.OneOf("a", "A", "", " ", "h", "RoundRobin", "random", "tcp", "send-expect", "nope", "10.0.0.0/8", "10.0.0.1/8", "*.example.com", "*", "0x10", "bad host", "\ud800", null!);

    private static readonly Gen<TargetConfig> Target =
        Gen.Select(Gen.OneOf("h", "H", "10.0.0.1", "::1", "0x10", "010.0.0.1", "bad host", "", "\ud800", null!), Number, Gen.Int[-1, 1001],
            static (host, port, weight) => new TargetConfig(host, port) { Weight = weight }).OrNull(5);

    private static readonly Gen<RuleConfig> Rule =
        Gen.Select(
            Gen.Select(List(Text), List(Number), List(Text), static (cidrs, ports, sni) => new MatchConfig { SourceCidrs = cidrs, Ports = ports, Sni = sni }).OrNull(10),
            List(Target),
            Text,
            Gen.Int[-1, 3].Select(static v => (ProxyProtocolVersion)v).Nullable(0.5),
            static (match, targets, strategy, proxy) => new RuleConfig { Match = match, Targets = targets, Strategy = strategy, ProxyProtocol = proxy }).OrNull(5);

    /// <summary>Apps with any value in every field; a tenth of them null.</summary>
    public static Gen<AppConfig> App { get; } =
        Gen.Select(
            Gen.Select(Text, List(Number), List(Target), Text, List(Rule), Gen.OneOf(IPAddress.Loopback, IPAddress.IPv6Any, null!), Number, Time,
                static (name, ports, targets, strategy, rules, bind, backlog, connect) => new AppConfig
                {
                    Name = name, Ports = ports, Targets = targets, Strategy = strategy, Rules = rules, Bind = bind, Backlog = backlog, ConnectTimeout = connect,
                }),
            Gen.Select(Time, Time, Gen.Select(Gen.Bool, Time, Time, Number, static (on, idle, interval, count) => new KeepAliveConfig(on, idle, interval, count)).OrNull(10), HealthCheck(),
                Gen.Select(Gen.Bool, Number, Time, Time, static (on, failures, first, most) => new PassiveHealthConfig(on, failures, first, most)).OrNull(10),
                Gen.Bool, Number.Nullable(0.5), Time.Nullable(0.5),
                static (drain, sni, keepAlive, health, passive, log, max, idle) => (drain, sni, keepAlive, health, passive, log, max, idle)),
            Gen.Select(Gen.Int[-1, 3], Gen.Bool, Time, List(Text), Number.Nullable(0.5), Number.Nullable(0.5),
                static (proxy, accept, wait, trusted, perSource, peeking) => (proxy, accept, wait, trusted, perSource, peeking)),
            static (app, more, proxy) => app with
            {
                DrainTimeout = more.drain, SniTimeout = more.sni, KeepAlive = more.keepAlive, HealthCheck = more.health, PassiveHealth = more.passive,
                AccessLog = more.log, MaxConnections = more.max, IdleTimeout = more.idle,
                ProxyProtocol = (ProxyProtocolVersion)proxy.proxy, AcceptProxyProtocol = proxy.accept, ProxyProtocolTimeout = proxy.wait, TrustedProxies = proxy.trusted,
                MaxConnectionsPerSource = proxy.perSource, MaxPeekingConnections = proxy.peeking,
            }).OrNull(10);

    /// <summary>Whole configs of up to three such apps; a few with no list of apps at all.</summary>
    public static Gen<ProxyConfig> Config { get; } =
        List(App).Select(static apps => new ProxyConfig { Apps = apps }).Select(Gen.Int[0, 49], static (config, none) => none == 0 ? config with { Apps = null! } : config);

    private static Gen<HealthCheckConfig> HealthCheck() =>
        Gen.Select(Time, Time, Number, Number, Text, Text, Text, static (interval, timeout, healthy, unhealthy, send, expect, probe) => new HealthCheckConfig
        {
            Interval = interval, Timeout = timeout, HealthyThreshold = healthy, UnhealthyThreshold = unhealthy, Send = send, Expect = expect, Probe = probe,
        }).OrNull(50);

    /// <summary>
    /// The value, or null <paramref name="percent"/> times in a hundred, typed as the records type it:
    /// not null (CsCheck's Null says null, which the records do not take without a warning).
    /// </summary>
    private static Gen<T> OrNull<T>(this Gen<T> gen, int percent)
        where T : class =>
        Gen.Frequency((100 - percent, gen), (percent, Gen.Const(static () => (T)null!)));

    /// <summary>Up to three items, or (one time in twenty) no list at all.</summary>
    private static Gen<EquatableList<T>> List<T>(Gen<T> item) =>
        item.Array[0, 3].Select(static items => new EquatableList<T>(items)).OrNull(5);
}

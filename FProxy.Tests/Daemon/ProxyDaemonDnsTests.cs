using System.Net;
using FProxy.Daemon;
using FProxy.Dns;
using FProxy.Tests.Infrastructure;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

/// <summary>The public daemon with its real address table, against a loopback DNS responder.</summary>
[CancelAfter(30_000)]
public sealed class ProxyDaemonDnsTests
{
    [Test]
    public async Task ApplyAsync_FirstTargetNxDomain_FailsOverToResolvedNameWithoutQueryOnConnect(CancellationToken ct)
    {
        await using var dns = new LoopbackDnsServer();
        dns.SetNxDomain("gone.fproxy.test");
        dns.Set("good.fproxy.test", [IPAddress.Loopback]);
        await using var echo = new EchoServer();
        var hosts = Path.GetTempFileName(); // Empty: no name may come from /etc/hosts.
        try
        {
            var options = new ProxyDaemonOptions { Dns = IsolatedDns(dns, hosts), Transport = TestTransport.Kind };
            await using var daemon = new ProxyDaemon(options);
            var ports = FreePorts(1);

            await daemon.ApplyAsync(Config(App("a", ports, $"gone.fproxy.test:{echo.Port}", $"good.fproxy.test:{echo.Port}")), ct);

            // Applying starts the lookups (A and AAAA, in parallel, per name) without waiting for them.
            await Wait.UntilAsync(() => dns.QueryCount("good.fproxy.test") >= 2 && dns.QueryCount("gone.fproxy.test") >= 2,
                TimeSpan.FromSeconds(10), "both names to be looked up after ApplyAsync");
            var good = dns.QueryCount("good.fproxy.test");
            var gone = dns.QueryCount("gone.fproxy.test");

            // Round robin: one of the two connections starts at the NXDOMAIN name and fails over.
            Assert.That(await Probe.EchoAsync(ports[0], "first", ct), Is.EqualTo("first"));
            Assert.That(await Probe.EchoAsync(ports[0], "second", ct), Is.EqualTo("second"));

            Assert.That(echo.Accepted, Is.EqualTo(2));
            Assert.That(dns.QueryCount("good.fproxy.test"), Is.EqualTo(good), "the connections read the address table, they did not query");
            Assert.That(dns.QueryCount("gone.fproxy.test"), Is.EqualTo(gone), "a failed name is retried in the background, not per connection");
        }
        finally
        {
            File.Delete(hosts);
        }
    }

    [Test]
    public async Task ApplyAsync_KubernetesShortNames_ReachBackendsThroughTheSearchList(CancellationToken ct)
    {
        await using var dns = new LoopbackDnsServer();
        dns.Set("redis.ns1.svc.cluster.local", [IPAddress.Loopback]);
        dns.Set("redis.cache.svc.cluster.local", [IPAddress.Loopback]);

        // Decoys a wrong search order would pick (TEST-NET-1: nothing answers there).
        dns.Set("redis.svc.cluster.local", [IPAddress.Parse("192.0.2.1")]);
        dns.Set("redis", [IPAddress.Parse("192.0.2.1")]);
        dns.Set("redis.cache", [IPAddress.Parse("192.0.2.1")]);
        await using var redis = new EchoServer(greeting: "redis\n");
        await using var cache = new EchoServer(greeting: "cache\n");
        var hosts = Path.GetTempFileName();
        var resolvConf = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(resolvConf, "search ns1.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n", ct);
            var options = new ProxyDaemonOptions { Dns = IsolatedDns(dns, hosts, resolvConf), Transport = TestTransport.Kind };
            await using var daemon = new ProxyDaemon(options);
            var ports = FreePorts(2);

            await daemon.ApplyAsync(Config(App("redis", [ports[0]], $"redis:{redis.Port}"), App("cache", [ports[1]], $"redis.cache:{cache.Port}")), ct);

            Assert.That(await Probe.GreetingAsync(ports[0], "redis", ct), Is.EqualTo("redis\n"));
            Assert.That(await Probe.GreetingAsync(ports[1], "cache", ct), Is.EqualTo("cache\n"));
            var queried = dns.QueriedNames();
            Assert.That(queried.Where(n => n.StartsWith("redis.cache", StringComparison.Ordinal)), Is.EqualTo(new[] { "redis.cache.ns1.svc.cluster.local", "redis.cache.svc.cluster.local" }));
            Assert.That(queried.Where(n => !n.StartsWith("redis.cache", StringComparison.Ordinal)), Is.EqualTo(new[] { "redis.ns1.svc.cluster.local" }));
        }
        finally
        {
            File.Delete(hosts);
            File.Delete(resolvConf);
        }
    }

    /// <summary>
    /// DNS options that see only the loopback responder, <paramref name="hostsFile"/> and
    /// <paramref name="resolvConf"/> (none when null): never the machine's files or environment.
    /// </summary>
    private static DnsOptions IsolatedDns(LoopbackDnsServer dns, string hostsFile, string? resolvConf = null) => new()
    {
        Servers = [dns.EndPoint],
        HostsFilePath = hostsFile,
        ResolvConfPath = resolvConf ?? "",
        ResolverEnvironment = ResolverEnvironment.Of(new Dictionary<string, string>()),
    };
}

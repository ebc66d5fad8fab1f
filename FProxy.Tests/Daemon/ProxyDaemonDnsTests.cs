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
            var options = new ProxyDaemonOptions { Dns = new DnsOptions { Servers = [dns.EndPoint], HostsFilePath = hosts }, Transport = TestTransport.Kind };
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
}

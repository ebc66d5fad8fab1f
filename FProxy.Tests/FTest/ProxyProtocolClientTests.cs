using System.Net;
using FProxy.ProxyProtocol;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.FTest;

/// <summary>
/// ping, balancer, simulate and watch with <c>--proxy-protocol</c>: every connection they open starts
/// with a header claiming <c>--source</c> (or the connection's own address) and naming the target,
/// read here by FProxy.Core's parser in a test target.
/// </summary>
[CancelAfter(30_000)]
public sealed class ProxyProtocolClientTests
{
    private static readonly IPEndPoint Claimed = IPEndPoint.Parse("192.0.2.1:5000");

    [TestCase(1)]
    [TestCase(2)]
    public async Task Ping_WithSource_SendsTheClaimedSourceAndTheTarget(int version, CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback);

        var run = await FTestRunner.RunAsync(ct, "ping", target.Target, "--proxy-protocol", $"v{version}", "--source", "192.0.2.1:5000", "-d", "hello");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        var header = target.Headers.Single();
        Assert.That(header, Is.EqualTo(new ProxyHeader(version, ProxyCommand.Proxy, ProxyAddresses.From(Claimed, target.EndPoint))));
        Assert.That(run.Out, Does.Contain($"{target.Target}: sent PROXY v{version} header 192.0.2.1:5000 -> {target.Target}"));
        Assert.That(run.Out, Does.Contain($"{target.Target}: 5 bytes \"hello\""), "the data after the header is echoed as without one");
        Assert.That(run.Out, Does.Not.Contain("target replied"), "this target sends no PROXY line");
    }

    [Test]
    public async Task Ping_WithoutSource_ClaimsTheConnectionsOwnAddress(CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback);

        var run = await FTestRunner.RunAsync(ct, "ping", target.Target, "--proxy-protocol", "v1");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        var header = target.Headers.Single();
        Assert.That(header.Source!.Address, Is.EqualTo(IPAddress.Loopback));
        Assert.That(header.Source.Port, Is.Not.Zero.And.Not.EqualTo(target.EndPoint.Port), "the client's ephemeral port");
        Assert.That(run.Out, Does.Contain($"sent PROXY v1 header 127.0.0.1:{header.Source.Port} -> {target.Target}"));
    }

    [TestCase(1)]
    [TestCase(2)]
    public async Task Ping_IPv6_SendsAnIPv6Header(int version, CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.IPv6Loopback);

        var run = await FTestRunner.RunAsync(ct, "ping", target.Target, "--proxy-protocol", $"v{version}", "--source", "[2001:db8::1]:5555");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(target.Headers.Single(), Is.EqualTo(new ProxyHeader(version, ProxyCommand.Proxy, ProxyAddresses.From(IPEndPoint.Parse("[2001:db8::1]:5555"), target.EndPoint))));
        Assert.That(run.Out, Does.Contain($"sent PROXY v{version} header [2001:db8::1]:5555 -> [::1]:{target.EndPoint.Port}"));
    }

    [Test]
    public async Task Ping_IPv4SourceToAnIPv6Target_ReportsTheMappedAddressThatWentOut(CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.IPv6Loopback);

        var run = await FTestRunner.RunAsync(ct, "ping", target.Target, "--proxy-protocol", "v1", "--source", "192.0.2.1:5000");

        // A header has one family: the IPv4 source goes out IPv4-mapped, and ping says so.
        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(target.Headers.Single().Source, Is.EqualTo(new IPEndPoint(Claimed.Address.MapToIPv6(), 5000)));
        Assert.That(run.Out, Does.Contain($"sent PROXY v1 header [::ffff:192.0.2.1]:5000 -> [::1]:{target.EndPoint.Port}"));
    }

    [Test]
    public async Task Balancer_OneHeaderPerItem(CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback);

        var run = await FTestRunner.RunAsync(ct, "balancer", target.Target, "-d", "a,b,c", "-e", "a,b,c", "--proxy-protocol", "v2", "--source", "192.0.2.1:5000");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(target.Headers, Has.Count.EqualTo(3).And.All.EqualTo(new ProxyHeader(2, ProxyCommand.Proxy, ProxyAddresses.From(Claimed, target.EndPoint))));
        Assert.That(run.Out, Does.Not.Contain("PROXY line"), "no column for lines no target sent");
    }

    [Test]
    public async Task Simulate_EveryConnectionStartsWithTheHeader(CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback);

        var run = await FTestRunner.RunAsync(ct, "simulate", target.Target, "-c", "4", "-n", "40", "--proxy-protocol", "v1", "--source", "192.0.2.1:5000", "--json");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(target.Refused, Is.Zero);
        Assert.That(target.Headers, Has.Count.EqualTo(40).And.All.EqualTo(new ProxyHeader(1, ProxyCommand.Proxy, ProxyAddresses.From(Claimed, target.EndPoint))));
    }

    [Test]
    public async Task Watch_EveryConnectionStartsWithTheHeader(CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback);

        var run = await FTestRunner.RunAsync(ct, "watch", target.Target, "--interval", "10ms", "--duration", "200ms", "--proxy-protocol", "v2", "--source", "192.0.2.1:5000");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(target.Accepted, Is.GreaterThan(1));
        Assert.That(target.Headers, Has.Count.EqualTo(target.Accepted).And.All.EqualTo(new ProxyHeader(2, ProxyCommand.Proxy, ProxyAddresses.From(Claimed, target.EndPoint))));
    }

    [Test]
    public async Task WithoutProxyProtocol_NoHeaderIsSent(CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback);

        var run = await FTestRunner.RunAsync(ct, "ping", target.Target, "--timeout", "200ms");

        // The target waits for a header that never comes: "ping" is not one.
        await Wait.UntilAsync(() => target.Refused == 1, ct);
        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(target.Headers, Is.Empty);
    }

    [Test]
    public async Task Ping_TargetAnswersWithAProxyLine_PrintsItAndTheEchoAfterIt(CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback, Line);

        var run = await FTestRunner.RunAsync(ct, "ping", target.Target, "--proxy-protocol", "v1", "--source", "192.0.2.1:5000");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(run.Out, Does.Contain($"{target.Target}: target replied \"PROXY 192.0.2.1:5000 -> 127.0.0.1:9\""));
        Assert.That(run.Out, Does.Contain($"{target.Target}: 4 bytes \"ping\""));
    }

    [Test]
    public async Task Balancer_TargetAnswersWithAProxyLine_ShowsItInAColumnAndChecksTheRest(CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback, Line);

        var run = await FTestRunner.RunAsync(ct, "balancer", target.Target, "-d", "a,b", "-e", "a,b", "--proxy-protocol", "v2");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        // The table wraps the line at the plain console's 80 columns.
        Assert.That(run.Out, Does.Contain("target's PROXY line").And.Contain("\"PROXY 192.0.2.1:5000 ->"));
    }

    [TestCase("simulate|-c|2|-n|10")]
    [TestCase("watch|--interval|10ms|--duration|100ms")]
    public async Task LoadAndWatch_TargetAnswersWithAProxyLine_ChecksTheEchoAfterIt(string command, CancellationToken ct)
    {
        await using var target = new ProxyHeaderListener(IPAddress.Loopback, Line);
        var args = command.Split('|');

        var run = await FTestRunner.RunAsync(ct, [args[0], target.Target, .. args[1..], "--proxy-protocol", "v1"]);

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(run.Out, Does.Contain(" 0 failed"));
    }

    private const string Line = "PROXY 192.0.2.1:5000 -> 127.0.0.1:9\n";
}

using System.Net;
using FProxy.Tests.Daemon;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.FTest;

[CancelAfter(20_000)]
public sealed class PingCommandTests
{
    [Test]
    public async Task Ping_EchoBackend_PrintsReplyAndTimesExit0(CancellationToken ct)
    {
        await using var echo = new EchoServer();

        var run = await FTestRunner.RunAsync(ct, "ping", echo.Target, "-d", "hello");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain($"{echo.Target}: 5 bytes \"hello\""));
        Assert.That(run.Out, Does.Contain("dial ").And.Contain("write ").And.Contain("read ").And.Contain("total "));
        Assert.That(run.Error, Is.Empty);
    }

    [Test]
    public async Task Ping_IPv6Backend_BracketedAddressWorks(CancellationToken ct)
    {
        await using var echo = new EchoServer(IPAddress.IPv6Loopback);

        var run = await FTestRunner.RunAsync(ct, "ping", $"[::1]:{echo.Port}");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain($"[::1]:{echo.Port}: 4 bytes \"ping\""));
    }

    [Test]
    public async Task Ping_HostName_IsResolved(CancellationToken ct)
    {
        await using var echo = new EchoServer();

        var run = await FTestRunner.RunAsync(new LoopbackNameResolver("backend"), ct, "ping", $"backend:{echo.Port}", "-d", "hi");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain($"backend:{echo.Port}: 2 bytes \"hi\""));
    }

    [Test]
    public async Task Ping_ThroughFProxy_RepliesExit0(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = TestConfigs.FreePorts(1);
        await daemon.ApplyAsync(TestConfigs.Config(TestConfigs.App("a", ports, echo.Target)), ct);

        var run = await FTestRunner.RunAsync(ct, "ping", FTestRunner.Loopback(ports[0]), "-d", "through the proxy");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain("17 bytes \"through the proxy\""));
        Assert.That(echo.Accepted, Is.EqualTo(1));
    }

    [Test]
    public async Task Ping_RefusedPort_OneLineExit1(CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "ping", FTestRunner.Loopback(Sockets.UnusedPort()));

        run.AssertOneLineError(1, "refused: connection refused");
    }

    [Test]
    public async Task Ping_ResettingBackend_OneLineExit1(CancellationToken ct)
    {
        await using var reset = EchoServer.Resetting();

        var run = await FTestRunner.RunAsync(ct, "ping", reset.Target);

        // A reset racing our send can also surface as the peer closing first.
        Assert.That(run.Error, Does.Contain("reset: ").Or.Contain("closed: "), run.Error);
        run.AssertOneLineError(1, $"ping {reset.Target}: ");
    }

    [Test]
    public async Task Ping_ThroughFProxyWithNoReachableTarget_ResetExit1(CancellationToken ct)
    {
        await using var daemon = DaemonFixture.Create();
        var ports = TestConfigs.FreePorts(1);
        await daemon.ApplyAsync(TestConfigs.Config(TestConfigs.App("a", ports, FTestRunner.Loopback(Sockets.UnusedPort()))), ct);

        var run = await FTestRunner.RunAsync(ct, "ping", FTestRunner.Loopback(ports[0]));

        // FProxy resets a client it cannot serve (docs/architecture.md); we may see the reset or its FIN-less close.
        Assert.That(run.Error, Does.Contain("reset: ").Or.Contain("closed: "), run.Error);
        run.AssertOneLineError(1, "ping 127.0.0.1:");
    }

    [Test]
    public async Task Ping_SilentBackend_TimeoutExit1(CancellationToken ct)
    {
        using var silent = FTestRunner.SilentListener();

        var run = await FTestRunner.RunAsync(ct, "ping", FTestRunner.Loopback(FTestRunner.Port(silent)), "--timeout", "200ms");

        run.AssertOneLineError(1, "timeout: timed out after 200ms waiting for the reply (0 of 4 bytes)");
    }

    [Test]
    public async Task Ping_UnresolvableHost_OneLineExit1(CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(new NoNamesResolver(), ct, "ping", "no-such-host.invalid:80");

        run.AssertOneLineError(1, "cannot resolve \"no-such-host.invalid\": host not found");
    }

    [TestCase("x")]
    [TestCase("127.0.0.1")]
    [TestCase("::1:80")]
    [TestCase("host:99999")]
    public async Task Ping_UnparsableAddress_OneLineErrorExit1(string address, CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "ping", address);

        run.AssertOneLineError(1, $"invalid address \"{address}\"");
        Assert.That(run.Error, Does.Contain("expected host:port, 1.2.3.4:port or [::1]:port"));
    }

    [Test]
    public async Task Ping_BadTimeoutExit1_UnknownOptionOrMissingAddressExit2(CancellationToken ct)
    {
        var badTimeout = await FTestRunner.RunAsync(ct, "ping", "127.0.0.1:1", "--timeout", "5");
        var unknown = await FTestRunner.RunAsync(ct, "ping", "127.0.0.1:1", "--bogus");
        var missing = await FTestRunner.RunAsync(ct, "ping");

        badTimeout.AssertOneLineError(1, "invalid --timeout \"5\"");
        unknown.AssertOneLineError(2, "--bogus");
        missing.AssertOneLineError(2, "see ftest ping --help");
    }

    [Test]
    public async Task Main_NoCommandOrUnknownCommand_UsageErrorExit2(CancellationToken ct)
    {
        var none = await FTestRunner.RunAsync(ct);
        var unknown = await FTestRunner.RunAsync(ct, "bogus");

        Assert.That(none.ExitCode, Is.EqualTo(2));
        Assert.That(none.Out, Does.Contain("ftest [command] [options]"));
        unknown.AssertOneLineError(2, "'bogus'");
    }

    [Test]
    public async Task Help_RootAndCommand_NameFtestAndEveryCommand(CancellationToken ct)
    {
        var root = await FTestRunner.RunAsync(ct, "--help");
        var ping = await FTestRunner.RunAsync(ct, "ping", "--help");

        Assert.That(root.ExitCode, Is.EqualTo(0));
        Assert.That(root.Out, Does.Contain("ftest [command] [options]"));
        foreach (var command in new[] { "ping", "balancer", "simulate", "echo", "watch" })
        {
            Assert.That(root.Out, Does.Contain(command + " "));
        }

        Assert.That(ping.ExitCode, Is.EqualTo(0));
        Assert.That(ping.Out, Does.Contain("ftest ping <ADDRESS> [options]").And.Contain("--timeout").And.Contain("[default: 5s]"));
    }
}

extern alias FTestTool;

using FTestTool::FProxy.FTest.Net;
using FProxy.Tests.Daemon;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.FTest;

[CancelAfter(20_000)]
public sealed class BalancerCommandTests
{
    [Test]
    public async Task Balancer_TaggedBackendsThroughFProxy_RoundRobinMatchesExit0(CancellationToken ct)
    {
        await using var a = EchoBackend.Start(System.Net.IPAddress.Loopback, 0, "a");
        await using var b = EchoBackend.Start(System.Net.IPAddress.Loopback, 0, "b");
        await using var daemon = DaemonFixture.Create();
        var ports = TestConfigs.FreePorts(1);
        await daemon.ApplyAsync(TestConfigs.Config(TestConfigs.App("ab", ports, EchoBackend.Format(a.EndPoint), EchoBackend.Format(b.EndPoint))), ct);
        var (ta, tb) = ($"a:{a.EndPoint.Port}", $"b:{b.EndPoint.Port}");

        // The reply read is as long as the expectation, so the greeting alone names the backend.
        var run = await FTestRunner.RunAsync(ct, "balancer", FTestRunner.Loopback(ports[0]), "-d", "x,y,z", "-e", $"{ta},{tb},{ta}");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain("balancer: 127.0.0.1:").And.Contain("3 requests, 3 ok, 0 failed"));
        Assert.That(run.Out, Does.Contain($"\"{tb}\"").And.Contain("p50"));
    }

    [Test]
    public async Task Balancer_PureEcho_EveryItemMatchesExit0(CancellationToken ct)
    {
        await using var echo = new EchoServer();

        var run = await FTestRunner.RunAsync(ct, "balancer", echo.Target, "-d", "a,bb,ccc", "-e", "a,bb,ccc");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(echo.Accepted, Is.EqualTo(3), "one connection per item");
    }

    [Test]
    public async Task Balancer_Mismatch_StopsPrintsReportSoFarExit1(CancellationToken ct)
    {
        await using var echo = new EchoServer();

        var run = await FTestRunner.RunAsync(ct, "balancer", echo.Target, "-d", "a,b,c", "-e", "a,x,c");

        run.AssertOneLineError(1, "item 2 of 3: wrong reply: expected \"x\", got \"b\"");
        Assert.That(echo.Accepted, Is.EqualTo(2), "stopped at the first mismatch");
        Assert.That(run.Out, Does.Contain("stopped at the first mismatch").And.Contain("2 requests, 1 ok, 1 failed"));
    }

    [Test]
    public async Task Balancer_RefusedPort_StopsAtFirstItemExit1(CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "balancer", FTestRunner.Loopback(Sockets.UnusedPort()), "-d", "a,b", "-e", "a,b");

        run.AssertOneLineError(1, "item 1 of 2: refused: connection refused");
    }

    [Test]
    public async Task Balancer_ShortReplyThenTimeout_ReportsTimeoutExit1(CancellationToken ct)
    {
        await using var echo = new EchoServer();

        var run = await FTestRunner.RunAsync(ct, "balancer", echo.Target, "-d", "a", "-e", "ab", "--timeout", "200ms");

        run.AssertOneLineError(1, "item 1 of 1: timeout: timed out after 200ms waiting for the reply (1 of 2 bytes)");
    }

    [TestCase("a,b,c", "x,y")]
    [TestCase("a", "x,y")]
    public async Task Balancer_MismatchedListLengths_OneLineErrorExit1(string data, string expected, CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "balancer", "127.0.0.1:1", "-d", data, "-e", expected);

        run.AssertOneLineError(1, "give one expectation per item");
    }

    [Test]
    public async Task Balancer_MissingExpectations_UsageErrorExit2(CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "balancer", "127.0.0.1:1", "-d", "a");

        run.AssertOneLineError(2, "--expect");
    }
}

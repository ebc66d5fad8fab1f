extern alias FTestTool;

using System.Text.Json;
using FTestTool::FProxy.FTest.Net;
using FProxy.Tests.Daemon;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.FTest;

[CancelAfter(30_000)]
public sealed class SimulateCommandTests
{
    [Test]
    public async Task Simulate_ThroughFProxy_AllRequestsSucceedExit0(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = TestConfigs.FreePorts(1);
        await daemon.ApplyAsync(TestConfigs.Config(TestConfigs.App("a", ports, echo.Target)), ct);

        var run = await FTestRunner.RunAsync(ct, "simulate", FTestRunner.Loopback(ports[0]), "-c", "8", "-n", "200");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain("200 requests, 200 ok, 0 failed").And.Contain("errors: none"));
        Assert.That(run.Out, Does.Contain("dial").And.Contain("response").And.Contain("p99"));
        Assert.That(echo.Accepted, Is.EqualTo(200));
    }

    [Test]
    public async Task Simulate_Defaults_OneRequestPerWorker(CancellationToken ct)
    {
        await using var echo = new EchoServer();

        var run = await FTestRunner.RunAsync(ct, "simulate", echo.Target, "-c", "5");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(echo.Accepted, Is.EqualTo(5));
    }

    [Test]
    public async Task Simulate_Json_ReportsCountsAndPercentiles(CancellationToken ct)
    {
        await using var echo = new EchoServer();

        var run = await FTestRunner.RunAsync(ct, "simulate", echo.Target, "-c", "4", "-n", "40", "-d", "hello world", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        using var json = JsonDocument.Parse(run.Out);
        var root = json.RootElement;
        Assert.That(root.GetProperty("requests").GetInt32(), Is.EqualTo(40));
        Assert.That(root.GetProperty("succeeded").GetInt32(), Is.EqualTo(40));
        Assert.That(root.GetProperty("errors").GetProperty("refused").GetInt32(), Is.Zero);
        Assert.That(root.GetProperty("dialMs").GetProperty("p99").GetDouble(), Is.GreaterThan(0));
        Assert.That(root.GetProperty("responseMs").GetProperty("max").GetDouble(), Is.GreaterThanOrEqualTo(root.GetProperty("responseMs").GetProperty("p50").GetDouble()));
    }

    [Test]
    public async Task Simulate_RefusedPort_CountsRefusedExit1(CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "simulate", FTestRunner.Loopback(Sockets.UnusedPort()), "-c", "2", "-n", "4", "--json");

        Assert.That(Errors(run).GetProperty("refused").GetInt32(), Is.EqualTo(4));
        run.AssertOneLineError(1, "4 of 4 requests failed (errors: refused 4)");
    }

    [Test]
    public async Task Simulate_ResettingBackend_CountsResetsExit1(CancellationToken ct)
    {
        await using var reset = EchoServer.Resetting();

        var run = await FTestRunner.RunAsync(ct, "simulate", reset.Target, "-c", "2", "-n", "6", "--json");

        var errors = Errors(run);
        Assert.That(errors.GetProperty("reset").GetInt32() + errors.GetProperty("closed").GetInt32(), Is.EqualTo(6));
        run.AssertOneLineError(1, "6 of 6 requests failed");
    }

    [Test]
    public async Task Simulate_TaggedBackend_CountsWrongRepliesExit1(CancellationToken ct)
    {
        await using var tagged = EchoBackend.Start(System.Net.IPAddress.Loopback, 0, "a");

        var run = await FTestRunner.RunAsync(ct, "simulate", EchoBackend.Format(tagged.EndPoint), "-c", "2", "-n", "3", "-d", "hello", "--json");

        Assert.That(Errors(run).GetProperty("wrong_reply").GetInt32(), Is.EqualTo(3));
        run.AssertOneLineError(1, "wrong reply 3");
    }

    [Test]
    public async Task Simulate_SilentBackend_CountsTimeoutsExit1(CancellationToken ct)
    {
        using var silent = FTestRunner.SilentListener();

        var run = await FTestRunner.RunAsync(ct, "simulate", FTestRunner.Loopback(FTestRunner.Port(silent)), "-c", "2", "-n", "2", "--timeout", "200ms");

        run.AssertOneLineError(1, "2 of 2 requests failed (errors: timeout 2)");
        Assert.That(run.Out, Does.Contain("errors: timeout 2"));
    }

    [Test]
    public async Task Simulate_DurationAndRate_PacesTheTotalRate(CancellationToken ct)
    {
        await using var echo = new EchoServer();

        var run = await FTestRunner.RunAsync(ct, "simulate", echo.Target, "-c", "4", "--duration", "1s", "--rate", "40/s", "--json");

        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        using var json = JsonDocument.Parse(run.Out);
        // 40/s for 1 s is 40 starts (requests 0..39 are due before the end); a slow machine may fit fewer.
        Assert.That(json.RootElement.GetProperty("requests").GetInt32(), Is.InRange(20, 40));
    }

    [TestCase("--requests|5|--duration|1s", "either --requests or --duration", 2)]
    [TestCase("-c|0", "invalid --concurrency \"0\"", 1)]
    [TestCase("--rate|fast", "invalid --rate \"fast\"", 1)]
    [TestCase("-d|", "--data must not be empty", 1)]
    public async Task Simulate_BadOptions_OneLineErrorExit1ForBadValues2ForUsage(string options, string problem, int exitCode, CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, ["simulate", "127.0.0.1:1", .. options.Split('|')]);

        run.AssertOneLineError(exitCode, problem);
        Assert.That(run.Error, Does.Contain("see ftest simulate --help"));
    }

    private static JsonElement Errors(FTestRun run) => JsonDocument.Parse(run.Out).RootElement.GetProperty("errors").Clone();
}

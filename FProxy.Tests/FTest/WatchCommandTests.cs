using System.Text.RegularExpressions;
using FProxy.Configuration;
using FProxy.Tests.Configuration;
using FProxy.Tests.Daemon;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.FTest;

[CancelAfter(30_000)]
public sealed partial class WatchCommandTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("fproxy-watch-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task Watch_HealthyProxy_ZeroFailuresExit0(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = TestConfigs.FreePorts(1);
        await daemon.ApplyAsync(TestConfigs.Config(TestConfigs.App("a", ports, echo.Target)), ct);

        var run = await FTestRunner.RunAsync(ct, "watch", FTestRunner.Loopback(ports[0]), "--interval", "10ms", "--duration", "300ms");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(run.Out, Does.Contain(" ok, 0 failed (100.00%)").And.Contain("longest outage: none"));
        Assert.That(Connections(run), Is.GreaterThan(5));
    }

    [Test]
    public async Task Watch_RefusedPort_ReportsEachFailureAndOutageExit1(CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "watch", FTestRunner.Loopback(Sockets.UnusedPort()), "--interval", "20ms", "--duration", "200ms");

        Assert.That(run.ExitCode, Is.EqualTo(1));
        var failureLines = run.Out.Split('\n').Count(static l => FailureLine().IsMatch(l));
        Assert.That(failureLines, Is.EqualTo(Connections(run)).And.GreaterThan(1), "one timestamped line per failure");
        Assert.That(run.Out, Does.Contain("(0.00%)"));
        Assert.That(run.Out, Does.Not.Contain("longest outage: none"));
        run.AssertOneLineError(1, "connections failed; longest outage ");
    }

    [Test]
    public async Task Watch_BackendResetsMidway_OutageEndsWhenItRecovers(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var reset = EchoServer.Resetting();
        await using var daemon = DaemonFixture.Create();
        var ports = TestConfigs.FreePorts(1);
        await daemon.ApplyAsync(TestConfigs.Config(TestConfigs.App("a", ports, echo.Target)), ct);

        var watch = FTestRunner.RunAsync(ct, "watch", FTestRunner.Loopback(ports[0]), "--interval", "10ms", "--duration", "2s");
        await Wait.UntilAsync(() => echo.Accepted >= 3, TimeSpan.FromSeconds(10), "successful round trips");
        await daemon.ApplyAsync(TestConfigs.Config(TestConfigs.App("a", ports, reset.Target)), ct);
        await Wait.UntilAsync(() => reset.Accepted >= 3, TimeSpan.FromSeconds(10), "failing round trips");
        var accepted = echo.Accepted;
        await daemon.ApplyAsync(TestConfigs.Config(TestConfigs.App("a", ports, echo.Target)), ct);
        await Wait.UntilAsync(() => echo.Accepted >= accepted + 3, TimeSpan.FromSeconds(10), "recovery");
        var run = await watch;

        Assert.That(run.ExitCode, Is.EqualTo(1));
        Assert.That(run.Out, Does.Contain(" reset: ").Or.Contain(" closed: "));
        var outage = Regex.Match(run.Out, @"longest outage: ([0-9.]+)ms");
        Assert.That(outage.Success, Is.True, run.Out);
        Assert.That(double.Parse(outage.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), Is.GreaterThan(0).And.LessThan(2000));
    }

    [Test]
    public async Task Watch_WhileConfigIsRewrittenAndReloaded_ZeroFailuresExit0(CancellationToken ct)
    {
        await using var a = new EchoServer();
        await using var b = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = TestConfigs.FreePorts(3);
        var path = Path.Combine(_dir, "config.json");
        Save(path, Json(0));
        var subscriber = new FileConfigSubscriber(path, new TestLogger<FileConfigSubscriber>()) { Debounce = TimeSpan.FromMilliseconds(20) };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var daemonRun = daemon.RunAsync(subscriber, stop.Token);
        await Wait.UntilAsync(() => daemon.BoundPorts.Contains(ports[0]), TimeSpan.FromSeconds(10), "the first config");

        var watch = FTestRunner.RunAsync(ct, "watch", FTestRunner.Loopback(ports[0]), "--interval", "5ms", "--duration", "3s");
        const int rewrites = 8;
        for (var version = 1; version <= rewrites; version++)
        {
            Save(path, Json(version));
            var expected = TimeSpan.FromMilliseconds(1000 + version);
            await Wait.UntilAsync(() => daemon.Current.Apps[0].ConnectTimeout == expected, TimeSpan.FromSeconds(10), $"reload {version}");
        }

        var rewritesDone = !watch.IsCompleted;
        var run = await watch;
        await stop.CancelAsync();
        try
        {
            await daemonRun;
        }
        catch (OperationCanceledException)
        {
            // The daemon's run ends by cancellation.
        }

        Assert.That(rewritesDone, Is.True, "every reload happened while the watch ran");
        Assert.That(run.ExitCode, Is.Zero, run.Out + run.Error);
        Assert.That(run.Out, Does.Contain(" 0 failed (100.00%)"));
        Assert.That(a.Accepted, Is.GreaterThan(0));
        Assert.That(b.Accepted, Is.GreaterThan(0), "reloads rerouted the watched port");

        string Json(int version)
        {
            // Alternate the targets and an extra port, and change a setting every time.
            var targets = version % 2 == 0 ? $"\"{a.Target}\", \"{b.Target}\"" : $"\"{b.Target}\"";
            var extra = version % 2 == 0 ? $", {ports[1]}" : $", {ports[2]}";
            return $$"""{"Apps": [{"Name": "watched", "Ports": [{{ports[0]}}{{extra}}], "Targets": [{{targets}}], "Bind": "127.0.0.1", "ConnectTimeout": "{{1000 + version}}ms"}]}""";
        }
    }

    [TestCase("watch|127.0.0.1:1|--interval|fast")]
    [TestCase("watch|127.0.0.1:1|--duration|0s")]
    [TestCase("watch|localhost")]
    public async Task Watch_BadValues_OneLineErrorExit1(string args, CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, args.Split('|'));

        run.AssertOneLineError(1, "see ftest watch --help");
    }

    private static int Connections(FTestRun run)
    {
        var match = Regex.Match(run.Out, @": (\d+) connections, ");
        Assert.That(match.Success, Is.True, run.Out);
        return int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Save(string path, string json)
    {
        // Editors' way: write a temp file, then rename it over the config.
        var temp = path + ".tmp";
        File.WriteAllText(temp, json);
        File.Move(temp, path, overwrite: true);
    }

    [GeneratedRegex(@"^\d\d:\d\d:\d\d\.\d{3} refused: connection refused$")]
    private static partial Regex FailureLine();
}

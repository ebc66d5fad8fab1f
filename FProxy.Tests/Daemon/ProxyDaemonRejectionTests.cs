using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Tests.Infrastructure;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

/// <summary>
/// Configs that do not come from the JSON parser (built in code, pushed by a custom source) meet
/// the same rules, and a bad one is reported and skipped: it never stops the daemon.
/// </summary>
public sealed class ProxyDaemonRejectionTests
{
    private const int RejectedLogEvent = 1002;

    /// <summary>Before validation ran on every source, each of these was applied: a division by zero per connection, a port silently taken by the last app, an exception out of the reconcile.</summary>
    [TestCase("no targets", "\"Targets\" is empty")]
    [TestCase("two apps on one port", "is already used by app")]
    [TestCase("port 70000", "port 70000 is outside 1..65535")]
    [TestCase("unknown strategy", "unknown strategy \"Sticky\"")]
    [CancelAfter(30_000)]
    public async Task ApplyAsync_InvalidConfigBuiltInCode_RejectedAndRunningConfigUnchanged(string mistake, string message, CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(2);
        await using var daemon = DaemonFixture.Create();
        var good = Config(App("a", [ports[0]], echo.Target));
        await daemon.ApplyAsync(good, ct);

        var e = Assert.ThrowsAsync<ConfigException>(() => daemon.ApplyAsync(Invalid(mistake, ports, echo.Target), ct))!;

        Assert.That(e.Errors, Has.Some.Contain(message));
        Assert.That(daemon.Current, Is.SameAs(good));
        Assert.That(daemon.Version, Is.EqualTo(1));
        Assert.That(daemon.BoundPorts, Is.EqualTo(new[] { ports[0] }));
        Assert.That(await EchoAsync(ports[0], ct), Is.True, "the running config still serves");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task RunAsync_CustomSourcePushesBadSnapshots_EachReportedAndTheNextApplies(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(3);
        using var metrics = new MetricRecorder();
        using var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        var events = DaemonFixture.Collect(daemon, ct);
        var source = new ChannelConfigSource();
        var run = daemon.RunAsync(source, ct);

        await source.PushAsync(Config(App("a", [ports[0]], echo.Target)), ct);
        await Wait.UntilAsync(() => daemon.Version == 1, ct);
        await source.PushAsync(Invalid("unknown strategy", ports, echo.Target), ct);
        await source.PushAsync(Invalid("no targets", ports, echo.Target), ct);
        await source.PushAsync(Config(App("a", [ports[0]], echo.Target), App("b", [ports[2]], echo.Target)), ct);

        await Wait.UntilAsync(() => daemon.BoundPorts.Contains(ports[2]), ct);
        Assert.That(run.IsCompleted, Is.False, "no snapshot ends the run");
        Assert.That(daemon.Version, Is.EqualTo(2), "the two bad snapshots were not applied");
        Assert.That(await EchoAsync(ports[2], ct), Is.True);
        await Wait.UntilAsync(() => events.Count(static e => e.Kind == DaemonEventKind.RolloutFailed) == 2, ct);
        var failed = events.Where(static e => e.Kind == DaemonEventKind.RolloutFailed).Select(static e => e.Message).ToArray();
        Assert.That(failed[0], Does.Contain("invalid config rejected").And.Contain("unknown strategy \"Sticky\""));
        Assert.That(failed[1], Does.Contain("invalid config rejected").And.Contain("\"Targets\" is empty"));
        Assert.That(logs.Messages(RejectedLogEvent).ToArray(), Has.Length.EqualTo(2).And.Some.Contain("\"Targets\" is empty"));
        Assert.That(metrics.Sum("fproxy.rollouts", ("result", "rejected")), Is.GreaterThanOrEqualTo(2));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task RunAsync_FirstSnapshotInvalid_ReportedAndTheNextApplies(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(2);
        await using var daemon = DaemonFixture.Create();
        var events = DaemonFixture.Collect(daemon, ct);
        var source = new ChannelConfigSource();
        var run = daemon.RunAsync(source, ct);

        await source.PushAsync(Invalid("port 70000", ports, echo.Target), ct);
        await Wait.UntilAsync(() => events.Any(static e => e.Kind == DaemonEventKind.RolloutFailed), ct);
        Assert.That(daemon.GetReadiness().Ready, Is.False, "nothing applied yet");
        await source.PushAsync(Config(App("a", [ports[0]], echo.Target)), ct);

        await Wait.UntilAsync(() => daemon.GetReadiness().Ready, ct);
        Assert.That(run.IsCompleted, Is.False);
        Assert.That(await EchoAsync(ports[0], ct), Is.True);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task RunAsync_SourceReportsARejectedPart_LoggedPublishedAndCountedLikeAnyRejection(CancellationToken ct)
    {
        using var metrics = new MetricRecorder();
        using var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        var events = DaemonFixture.Collect(daemon, ct);
        var source = new ChannelConfigSource();
        _ = daemon.RunAsync(source, ct);
        await Wait.UntilAsync(() => source.Feedback is not null, ct);

        source.Feedback!.Rejected(new ConfigException("etcd", ["\"Ports\": port 70000 is outside 1..65535"], "/fproxy/apps/web"));

        await Wait.UntilAsync(() => events.Any(static e => e.Kind == DaemonEventKind.RolloutFailed), ct);
        Assert.That(events.Single(static e => e.Kind == DaemonEventKind.RolloutFailed).Message,
            Does.Contain("(/fproxy/apps/web)").And.Contain("port 70000 is outside 1..65535"));
        Assert.That(logs.Messages(RejectedLogEvent).Single(), Does.StartWith("Config etcd (/fproxy/apps/web) is invalid (1 error);"));
        Assert.That(metrics.Sum("fproxy.rollouts", ("result", "rejected")), Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task TryApplyAsync_Invalid_ReturnsFalseAndReports(CancellationToken ct)
    {
        await using var daemon = DaemonFixture.Create();
        var events = DaemonFixture.Collect(daemon, ct);

        var applied = await daemon.TryApplyAsync(Invalid("no targets", FreePorts(2), "127.0.0.1:1"), ct);

        Assert.That(applied, Is.False);
        await Wait.UntilAsync(() => events.Any(static e => e.Kind == DaemonEventKind.RolloutFailed), ct);
        Assert.That(daemon.Version, Is.Zero);
    }

    private static ProxyConfig Invalid(string mistake, int[] ports, string target) => mistake switch
    {
        "no targets" => Config(App("a", [ports[0]])),
        "two apps on one port" => Config(App("a", [ports[0]], target), App("b", [ports[1], ports[0]], target)),
        "port 70000" => Config(App("a", [ports[0], 70000], target)),
        "unknown strategy" => Config(App("a", [ports[0]], target) with { Strategy = "Sticky" }),
        _ => throw new ArgumentOutOfRangeException(nameof(mistake), mistake, null),
    };

    private static async Task<bool> EchoAsync(int port, CancellationToken ct)
    {
        using var client = await Sockets.ConnectAsync(port, ct);
        await client.SendAsync(new byte[] { 42 }, ct);
        var reply = await Sockets.ReadAsync(client, 1, ct);
        return reply[0] == 42;
    }
}

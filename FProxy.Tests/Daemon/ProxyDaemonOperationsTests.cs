using System.Net;
using System.Net.Sockets;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

/// <summary>What operators rely on: events, readiness, status, supervision, limits, idle timeout, access log.</summary>
public sealed class ProxyDaemonOperationsTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task Events_Reload_RolloutStartedAndAppliedWithVersions(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(2);
        await using var daemon = DaemonFixture.Create();
        var events = DaemonFixture.Collect(daemon, ct);

        await daemon.ApplyAsync(Config(App("a", [ports[0]], echo.Target)), ct);
        await daemon.ApplyAsync(Config(App("a", [ports[0], ports[1]], echo.Target)), ct);

        await Wait.UntilAsync(() => events.Count(static e => e.Kind == DaemonEventKind.RolloutApplied) == 2, ct);
        var list = events.ToArray();
        Assert.That(list.Where(static e => e.Kind is DaemonEventKind.RolloutStarted or DaemonEventKind.RolloutApplied).Select(static e => (e.Type, e.Version)),
            Is.EqualTo(new[] { ("rollout.started", 1L), ("rollout.applied", 1L), ("rollout.started", 2L), ("rollout.applied", 2L) }));
        Assert.That(list.Where(static e => e.Kind == DaemonEventKind.PortBound).Select(static e => e.Port), Is.EqualTo(new int?[] { ports[0], ports[1] }));
        Assert.That(daemon.Version, Is.EqualTo(2));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Readiness_PortTakenThenFreed_NotReadyNamingThePortThenReady(CancellationToken ct)
    {
        var ports = FreePorts(2);
        await using var daemon = DaemonFixture.Create();
        Assert.That(daemon.GetReadiness().Ready, Is.False);
        Assert.That(daemon.GetReadiness().Reasons, Does.Contain("no config applied yet"));

        var blocker = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        blocker.Bind(new IPEndPoint(IPAddress.Loopback, ports[1])); // No SO_REUSEPORT: the daemon cannot share it.
        blocker.Listen(1);
        var events = DaemonFixture.Collect(daemon, ct);
        await daemon.ApplyAsync(Config(App("a", ports, "127.0.0.1:1")), ct);

        var readiness = daemon.GetReadiness();
        Assert.That(readiness.Ready, Is.False);
        Assert.That(readiness.UnboundPorts, Is.EqualTo(new[] { ports[1] }));
        Assert.That(readiness.Reasons.Single(), Does.StartWith($"port {ports[1]} (app a) is not bound: address already in use"));
        Assert.That(daemon.GetStatus().Apps[0].Ports.Select(static p => (p.Port, p.State)),
            Is.EquivalentTo(new[] { (ports[0], ListenerState.Bound), (ports[1], ListenerState.Retrying) }));
        await Wait.UntilAsync(() => events.Any(static e => e.Kind == DaemonEventKind.RolloutFailed), ct);
        Assert.That(events.Single(static e => e.Kind == DaemonEventKind.PortFailed).Port, Is.EqualTo(ports[1]));

        blocker.Dispose();
        await Wait.UntilAsync(() => daemon.GetReadiness().Ready, ct);
        Assert.That(daemon.GetReadiness().UnboundPorts, Is.Empty);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Readiness_BeginShutdown_NotReadyAtOnceWhileStillServing(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("a", [port], echo.Target)), ct);
        Assert.That(daemon.GetReadiness().Ready, Is.True);

        daemon.BeginShutdown();
        Assert.That(daemon.GetReadiness().Ready, Is.False);
        Assert.That(daemon.GetReadiness().Reasons, Is.EqualTo(new[] { "shutting down" }));
        Assert.That(await Probe.EchoAsync(port, "still", ct), Is.EqualTo("still"), "listeners stay open until StopAsync");
    }

    [TestCase(false)]
    [TestCase(true)]
    [CancelAfter(30_000)]
    public async Task Supervision_ListeningSocketClosedBehindTheDaemonsBack_Rebound(bool shutDownOnly, CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        await daemon.ApplyAsync(Config(App("a", [port], echo.Target)), ct);
        var events = DaemonFixture.Collect(daemon, ct);
        var first = daemon.GetListener(port)!;

        if (shutDownOnly)
        {
            // As another process holding the descriptor (pidfd_getfd) would: accept then fails with EINVAL.
            first.Socket.Shutdown(SocketShutdown.Both);
        }
        else
        {
            first.Socket.Dispose();
        }

        await Wait.UntilAsync(() => events.Any(static e => e.Kind == DaemonEventKind.PortFailed), ct);
        Assert.That(logs.Messages(1310).Single(), Does.Contain($"port {port} listener failed"));
        await Wait.UntilAsync(() => daemon.GetListener(port) is { } l && !ReferenceEquals(l, first), ct);
        await Wait.UntilAsync(() => daemon.GetReadiness().Ready, ct);
        await Wait.UntilAsync(() => events.Any(e => e.Kind == DaemonEventKind.PortBound && e.Port == port), ct);
        Assert.That(await Probe.EchoAsync(port, "back", ct), Is.EqualTo("back"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Status_AfterTraffic_ShowsVersionTargetsHealthAndBytes(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        var config = Config(App("a", [port], echo.Target));
        await daemon.ApplyAsync(config, ct);
        Assert.That(await Probe.EchoAsync(port, "12345", ct), Is.EqualTo("12345"));
        await Wait.UntilAsync(() => daemon.ActiveConnections == 0, ct);

        var status = daemon.GetStatus();
        Assert.That(status.Version, Is.EqualTo(1));
        Assert.That(status.Hash, Has.Length.EqualTo(64));
        Assert.That(status.Readiness.Ready, Is.True);
        var app = status.Apps.Single();
        Assert.That((app.Name, app.Strategy, app.BytesClientToTarget, app.BytesTargetToClient), Is.EqualTo(("a", "RoundRobin", 5L, 5L)));
        Assert.That(app.Ports.Single(), Is.EqualTo(new PortStatus(port, ListenerState.Bound, null)));
        Assert.That(app.Targets.Single(), Is.EqualTo(new TargetStatus(echo.Target, 1, true, false, 0, 5, 5)));

        await daemon.ApplyAsync(config with { }, ct);
        Assert.That(daemon.GetStatus().Hash, Is.EqualTo(status.Hash), "equal configs hash equal");
        Assert.That(daemon.GetStatus().Version, Is.EqualTo(2));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Status_PortMovedToAnotherApp_OpenConnectionStillCountsForTheFirst(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(2);
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("first", [ports[0]], echo.Target), App("second", [ports[1]], echo.Target)), ct);
        using var open = await Sockets.ConnectAsync(ports[0], ct);
        await Wait.UntilAsync(() => daemon.ActiveConnections == 1, ct);

        await daemon.ApplyAsync(Config(App("first", [ports[1]], echo.Target), App("second", [ports[0]], echo.Target)), ct);

        var apps = daemon.GetStatus().Apps.ToDictionary(static a => a.Name);
        Assert.That(apps["first"].ActiveConnections, Is.EqualTo(1), "accepted under the first app's route");
        Assert.That(apps["second"].ActiveConnections, Is.Zero);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Events_TargetUnhealthy_Reported(CancellationToken ct)
    {
        var dead = $"127.0.0.1:{Sockets.UnusedPort()}";
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        var events = DaemonFixture.Collect(daemon, ct);
        await daemon.ApplyAsync(Config(App("a", [port], dead, echo.Target) with
        {
            HealthCheck = new HealthCheckConfig { Interval = TimeSpan.FromMilliseconds(100), Timeout = TimeSpan.FromMilliseconds(100), UnhealthyThreshold = 1 },
        }), ct);

        await Wait.UntilAsync(() => events.Any(static e => e.Kind == DaemonEventKind.TargetUnhealthy), ct);
        var unhealthy = events.First(static e => e.Kind == DaemonEventKind.TargetUnhealthy);
        Assert.That((unhealthy.Type, unhealthy.App, unhealthy.Target), Is.EqualTo(("target.unhealthy", "a", dead)));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Events_RejectedConfigAndUnresolvableApp_ReportedAsFailedRollouts(CancellationToken ct)
    {
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        var events = DaemonFixture.Collect(daemon, ct);
        await daemon.ApplyAsync(Config(App("nowhere", [port], "missing.test:80")), ct);
        daemon.ReportRejected(new ConfigException("config.json", ["Apps[0]: missing \"Name\""]));

        await Wait.UntilAsync(() => events.Count(static e => e.Kind == DaemonEventKind.RolloutFailed) == 2, ct);
        var failed = events.Where(static e => e.Kind == DaemonEventKind.RolloutFailed).ToArray();
        Assert.That(failed.Select(static e => e.Message), Has.One.Contains("none of its targets resolve").And.One.Contains("missing \"Name\""));
        Assert.That(daemon.GetReadiness().Ready, Is.True, "an app whose targets do not resolve does not make the node unready");
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task MaxConnections_Burst_NeverExceededAndExtraOnesReset(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(2);
        using var metrics = new MetricRecorder();
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("limited", ports, echo.Target) with { MaxConnections = 5 }), ct);

        // 40 clients at once over both ports; each holds its connection open until the end.
        var clients = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                // A client over the limit may see the reset before its own connect completes.
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, ports[i % 2]), ct);
                await socket.SendAsync("x"u8.ToArray(), SocketFlags.None, ct);
                var echoed = await Sockets.ReadAsync(socket, 1, ct);
                return (socket, served: echoed.Length == 1);
            }
            catch (SocketException)
            {
                return (socket, served: false);
            }
        }));

        Assert.That(clients.Count(static c => c.served), Is.EqualTo(5), "exactly MaxConnections are served");
        Assert.That(daemon.GetRoute("limited")!.Limits.Open.Open, Is.EqualTo(5));
        await Wait.UntilAsync(() => metrics.Observe("fproxy.connections.failed", ("app", "limited"), ("reason", "limit")) == 35, ct);

        foreach (var (socket, _) in clients)
        {
            socket.Dispose();
        }

        await Wait.UntilAsync(() => daemon.GetRoute("limited")!.Limits.Open.Open == 0, ct);
        Assert.That(await Probe.EchoAsync(ports[0], "again", ct), Is.EqualTo("again"), "room again once they closed");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task IdleTimeout_NoBytesForThatLong_ClosedWithFinWhileActiveOneStays(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var daemon = DaemonFixture.Create(time: time);
        await daemon.ApplyAsync(Config(App("idle", [port], echo.Target) with { IdleTimeout = TimeSpan.FromSeconds(10) }), ct);

        using var idle = await Sockets.ConnectAsync(port, ct);
        using var busy = await Sockets.ConnectAsync(port, ct);
        await Wait.UntilAsync(() => daemon.ActiveConnections == 2, ct);
        for (var second = 0; second < 12; second++)
        {
            await busy.SendAsync("b"u8.ToArray(), SocketFlags.None, ct);
            Assert.That(await Sockets.ReadAsync(busy, 1, ct), Is.EqualTo("b"u8.ToArray()));
            time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.That(await Sockets.ReadEndAsync(idle, ct), Is.EqualTo(SocketError.Success), "the idle one got a FIN, not a reset");
        await busy.SendAsync("c"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(busy, 1, ct), Is.EqualTo("c"u8.ToArray()), "the busy one is untouched");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task IdleTimeout_Short_SweepFollowsItOnTheRealClock(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("idle-short", [port], echo.Target) with { IdleTimeout = TimeSpan.FromMilliseconds(200) }), ct);

        using var idle = await Sockets.ConnectAsync(port, ct);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(await Sockets.ReadEndAsync(idle, ct), Is.EqualTo(SocketError.Success));
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(150)), "not before the IdleTimeout");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task AccessLog_OnForApp_OneLinePerConnectionWithItsFields(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = FreePorts(2);
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        await daemon.ApplyAsync(Config(
            App("logged", [ports[0]], echo.Target) with { AccessLog = true },
            App("quiet", [ports[1]], echo.Target)), ct);

        Assert.That(await Probe.EchoAsync(ports[0], "abc", ct), Is.EqualTo("abc"));
        Assert.That(await Probe.EchoAsync(ports[1], "abc", ct), Is.EqualTo("abc"));
        await Wait.UntilAsync(() => logs.Count(1250) == 1 && daemon.ActiveConnections == 0, ct);

        var line = logs.Entries.Single(static e => e.Id == 1250);
        Assert.That(line.Category, Is.EqualTo("FProxy.Access"));
        Assert.That(line.Level, Is.EqualTo(Microsoft.Extensions.Logging.LogLevel.Information));
        Assert.That(line.Message, Does.StartWith($"logged port={ports[0]} client=127.0.0.1:"));
        Assert.That(line.Message, Does.Contain($"target={echo.Target} connect_ms=").And.Contain(" duration_ms=").And.Contain("bytes_up=3 bytes_down=3 end=closed"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task AccessLog_AllAppsOption_LogsFailuresToo(CancellationToken ct)
    {
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        var options = new ProxyDaemonOptions { AccessLogAll = true };
        await using var daemon = DaemonFixture.Create(loggerFactory: logs, options: options);
        await daemon.ApplyAsync(Config(App("down", [port], $"127.0.0.1:{Sockets.UnusedPort()}")), ct);

        Assert.That(await Sockets.ConnectAndReadEndAsync(port, ct), Is.EqualTo(SocketError.ConnectionReset));
        await Wait.UntilAsync(() => logs.Count(1250) == 1, ct);
        Assert.That(logs.Messages(1250).Single(), Does.Contain("target=- ").And.EndWith("end=refused"));
    }
}

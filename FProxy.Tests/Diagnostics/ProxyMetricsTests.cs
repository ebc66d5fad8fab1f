using System.Net.Sockets;
using FProxy.Diagnostics;
using FProxy.Tests.Daemon;
using FProxy.Tests.Infrastructure;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Diagnostics;

/// <summary>Metric values after known traffic, read with a MeterListener.</summary>
[NonParallelizable]
public sealed class ProxyMetricsTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task Traffic_KnownConnections_CountedByAppPortAndTarget(CancellationToken ct)
    {
        using var metrics = new MetricRecorder();
        await using var echo = new EchoServer();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("metrics-ok", [port], echo.Target)), ct);

        for (var i = 0; i < 3; i++)
        {
            Assert.That(await Probe.EchoAsync(port, "hello", ct), Is.EqualTo("hello"));
        }

        await Wait.UntilAsync(() => daemon.ActiveConnections == 0, ct);
        var app = ("app", (object)"metrics-ok");
        Assert.That(metrics.Observe("fproxy.connections.accepted", app, ("port", port)), Is.EqualTo(3));
        Assert.That(metrics.Observe("fproxy.connections.active", app, ("port", port)), Is.Zero, "every connection closed");
        Assert.That(metrics.ObserveSeries("fproxy.connections.active", app), Has.Count.EqualTo(1), "one series: the app on its port");
        Assert.That(metrics.Count("fproxy.upstream.connect.duration", app, ("target", echo.Target)), Is.EqualTo(3));
        Assert.That(metrics.ObserveSeries("fproxy.connections.failed", app), Is.Empty, "a failure series appears with its first failure");
        Assert.That(metrics.Observe("fproxy.bytes", app, ("direction", "client_to_target")), Is.EqualTo(15), "5 bytes per connection");
        Assert.That(metrics.Observe("fproxy.bytes", app, ("direction", "target_to_client")), Is.EqualTo(15));
        Assert.That(metrics.Observe("fproxy.targets.healthy", app), Is.EqualTo(1));
        Assert.That(metrics.Observe("fproxy.listener.state", app, ("port", port)), Is.EqualTo(1));
        Assert.That(metrics.Sum("fproxy.rollouts", ("result", "applied")), Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Failures_RefusedAndNoTarget_CountedByReason(CancellationToken ct)
    {
        using var metrics = new MetricRecorder();
        var ports = FreePorts(2);
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(
            App("metrics-refused", [ports[0]], $"127.0.0.1:{Sockets.UnusedPort()}"),
            App("metrics-nxdomain", [ports[1]], "missing.test:80")), ct);

        for (var i = 0; i < 2; i++)
        {
            Assert.That(await Sockets.ConnectAndReadEndAsync(ports[0], ct), Is.EqualTo(SocketError.ConnectionReset));
            Assert.That(await Sockets.ConnectAndReadEndAsync(ports[1], ct), Is.EqualTo(SocketError.ConnectionReset));
        }

        await Wait.UntilAsync(() => daemon.ActiveConnections == 0, ct);
        Assert.That(metrics.Observe("fproxy.connections.failed", ("app", "metrics-refused"), ("reason", "refused")), Is.EqualTo(2));
        Assert.That(metrics.Observe("fproxy.connections.failed", ("app", "metrics-nxdomain"), ("reason", "no_target")), Is.EqualTo(2));
        Assert.That(metrics.ObserveSeries("fproxy.connections.failed", ("app", "metrics-refused")), Has.Count.EqualTo(1), "only the reason that occurred");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Failures_TargetResets_CountedAsReset(CancellationToken ct)
    {
        using var metrics = new MetricRecorder();
        await using var resetting = EchoServer.Resetting();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("metrics-reset", [port], resetting.Target)), ct);

        Assert.That(await Sockets.ConnectAndReadEndAsync(port, ct), Is.EqualTo(SocketError.ConnectionReset));
        await Wait.UntilAsync(() => metrics.Observe("fproxy.connections.failed", ("app", "metrics-reset"), ("reason", "reset")) == 1, ct);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Reload_AppAndPortRemoved_TheirConnectionSeriesLeave(CancellationToken ct)
    {
        using var metrics = new MetricRecorder();
        await using var echo = new EchoServer();
        var ports = FreePorts(3);
        var refused = $"127.0.0.1:{Sockets.UnusedPort()}";
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("series-a", [ports[0], ports[1]], echo.Target), App("series-b", [ports[2]], refused)), ct);
        Assert.That(await Probe.EchoAsync(ports[0], "a", ct), Is.EqualTo("a"));
        Assert.That(await Probe.EchoAsync(ports[1], "a", ct), Is.EqualTo("a"));
        Assert.That(await Sockets.ConnectAndReadEndAsync(ports[2], ct), Is.EqualTo(SocketError.ConnectionReset));
        await Wait.UntilAsync(() => daemon.ActiveConnections == 0, ct);
        var b = ("app", (object)"series-b");
        Assert.That(metrics.Observe("fproxy.connections.accepted", b), Is.EqualTo(1));
        Assert.That(metrics.Observe("fproxy.connections.failed", b, ("reason", "refused")), Is.EqualTo(1));

        await daemon.ApplyAsync(Config(App("series-a", [ports[0]], echo.Target)), ct);

        foreach (var instrument in new[] { "fproxy.connections.accepted", "fproxy.connections.active", "fproxy.connections.failed" })
        {
            Assert.That(metrics.ObserveSeries(instrument, b), Is.Empty, $"{instrument}: the removed app's series are gone");
            Assert.That(metrics.ObserveSeries(instrument, ("port", ports[1])), Is.Empty, $"{instrument}: the removed port's series are gone");
        }

        Assert.That(metrics.Observe("fproxy.connections.accepted", ("app", "series-a"), ("port", ports[0])), Is.EqualTo(1), "the port that stays keeps its count");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Reload_AppRemovedWithAnOpenConnection_SeriesStaysUntilItCloses(CancellationToken ct)
    {
        using var metrics = new MetricRecorder();
        await using var echo = new EchoServer();
        var ports = FreePorts(2);
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("draining-a", [ports[0]], echo.Target), App("draining-b", [ports[1]], echo.Target)), ct);
        using (var client = await Sockets.ConnectAsync(ports[1], ct))
        {
            await client.SendAsync("x"u8.ToArray(), SocketFlags.None, ct);
            Assert.That(await Sockets.ReadAsync(client, 1, ct), Has.Length.EqualTo(1));

            await daemon.ApplyAsync(Config(App("draining-a", [ports[0]], echo.Target)), ct);

            var b = ("app", (object)"draining-b");
            Assert.That(metrics.Observe("fproxy.connections.active", b), Is.EqualTo(1), "the draining connection is still counted");
            Assert.That(metrics.Observe("fproxy.connections.accepted", b), Is.EqualTo(1));
        }

        await Wait.UntilAsync(() => metrics.ObserveSeries("fproxy.connections.active", ("app", "draining-b")).Count == 0, ct);
        Assert.That(metrics.ObserveSeries("fproxy.connections.accepted", ("app", "draining-b")), Is.Empty);
    }

    [Test]
    public void Recording_NoListener_AllocatesNothing()
    {
        // Without a collector (FPROXY_ADMIN_URL=none, no OTLP) the instruments are disabled:
        // recording must cost a check and nothing more.
        using var metrics = new ProxyMetrics(null, new ProxyMetrics.Observations(() => [], () => [], () => [], () => []));
        var counters = metrics.Connections.For("app", 5001);
        Record(metrics, counters);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Record(metrics, counters);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void Recording_WithAllocationFreeListener_AllocatesNothing()
    {
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        long total = 0;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == ProxyMetrics.MeterName)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, v, _, _) => Interlocked.Add(ref total, v));
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref total));
        listener.Start();
        using var metrics = new ProxyMetrics(null, new ProxyMetrics.Observations(() => [], () => [], () => [], () => []));
        var counters = metrics.Connections.For("app", 5001);
        Record(metrics, counters);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Record(metrics, counters);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "TagList with ready-made tag objects; counters are striped cells");
        Assert.That(Interlocked.Read(ref total), Is.GreaterThanOrEqualTo(10_000), "the listener saw the connect durations");
        Assert.That(counters.ReadAccepted(), Is.EqualTo(10_001));
    }

    private static void Record(ProxyMetrics metrics, ConnectionCounters counters)
    {
        counters.Accepted();
        metrics.Connected("app", "127.0.0.1:1", TimeSpan.FromMilliseconds(1));
        counters.Failed(ProxyMetrics.FailureReason.Refused);
        counters.Closed();
    }
}

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
        Assert.That(metrics.Sum("fproxy.connections.accepted", app, ("port", port)), Is.EqualTo(3));
        Assert.That(metrics.Sum("fproxy.connections.active", app), Is.Zero, "+1 and -1 per connection");
        Assert.That(metrics.Count("fproxy.connections.active", app), Is.EqualTo(6));
        Assert.That(metrics.Count("fproxy.upstream.connect.duration", app, ("target", echo.Target)), Is.EqualTo(3));
        Assert.That(metrics.Sum("fproxy.connections.failed", app), Is.Zero);
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
        Assert.That(metrics.Sum("fproxy.connections.failed", ("app", "metrics-refused"), ("reason", "refused")), Is.EqualTo(2));
        Assert.That(metrics.Sum("fproxy.connections.failed", ("app", "metrics-nxdomain"), ("reason", "no_target")), Is.EqualTo(2));
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
        await Wait.UntilAsync(() => metrics.Sum("fproxy.connections.failed", ("app", "metrics-reset"), ("reason", "reset")) == 1, ct);
    }

    [Test]
    public void Recording_NoListener_AllocatesNothing()
    {
        // Without a collector (FPROXY_ADMIN_URL=none, no OTLP) the instruments are disabled:
        // recording must cost a check and nothing more.
        using var metrics = new ProxyMetrics(null, new ProxyMetrics.Observations(() => [], () => [], () => [], () => []));
        object port = 5001;
        Record(metrics, port);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Record(metrics, port);
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
        object port = 5001;
        Record(metrics, port);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            Record(metrics, port);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, "TagList with ready-made tag objects");
        Assert.That(Interlocked.Read(ref total), Is.GreaterThan(10_000), "the listener saw the measurements");
    }

    private static void Record(ProxyMetrics metrics, object port)
    {
        metrics.Accepted("app", port);
        metrics.Connected("app", "127.0.0.1:1", TimeSpan.FromMilliseconds(1));
        metrics.Failed("app", port, ProxyMetrics.FailureReason.Refused);
        metrics.Closed("app", port);
    }
}

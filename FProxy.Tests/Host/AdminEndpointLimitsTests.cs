using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FProxy.Host.Admin;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>
/// The admin endpoint under clients that misbehave, over real sockets on loopback: silent
/// connections, requests that never finish, event subscribers that never read, more of them than
/// the endpoint serves. Probes must answer through all of it, and the endpoint must say so once,
/// not once per client.
/// </summary>
[CancelAfter(90_000)]
[NonParallelizable]
public sealed class AdminEndpointLimitsTests
{
    /// <summary>Silent connections, and stalled subscribers, that the starvation test holds.</summary>
    private const int Held = 500;

    /// <summary>
    /// Ports added and removed by turns to make events: each rollout that adds them sends one
    /// port.bound event (about 230 bytes) per port to every subscriber.
    /// </summary>
    private const int ExtraPorts = 100;

    /// <summary>The bound the task asks of /readyz under load; measured figures are far below it.</summary>
    private static readonly TimeSpan ProbeBound = TimeSpan.FromMilliseconds(100);

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(20);

    [Test]
    public async Task Readyz_500SilentConnectionsAnd500StalledSubscribers_AnswersWithin100Ms(CancellationToken ct)
    {
        // Each held socket is a descriptor here; the host holds at most its cap.
        RawHttp.RequireOpenFiles(2 * Held + 1000);
        await using var echo = new EchoServer();
        var ports = TestConfigs.FreePorts(1 + ExtraPorts);
        using var host = HostProcess.Start(Config(ports, echo, extra: false), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        var clock = Stopwatch.StartNew();
        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < Held; i++)
            {
                held.Add(await RawHttp.StalledSubscriberAsync(admin.Port, ct));
            }

            // Beyond the subscriber bound they are answered 503: every stream is open.
            await host.WaitForEventAsync(1413, TimeSpan.FromSeconds(20));

            // Make the stall real: events until the host's side of every stream holds data its
            // client will not take (a client's small receive buffer is full, the host's send
            // buffer is filling).
            var version = 1;
            await Wait.UntilAsync(async () =>
            {
                version++;
                await ApplyAsync(host, Config(ports, echo, extra: version % 2 == 0), version);
                return RawHttp.ServerConnections(host.Pid, admin.Port).Count(static c => c.Established && c.SendQueue >= 4096) >= AdminLimits.MaxSubscribers;
            }, ct);

            for (var i = 0; i < Held; i++)
            {
                held.Add(await Sockets.ConnectAsync(admin.Port, ct));
            }

            var open = RawHttp.ServerConnections(host.Pid, admin.Port).Count(static c => c.Established);
            var probes = new List<TimeSpan>();
            for (var i = 0; i < 5; i++)
            {
                var (status, _, body, elapsed) = await RawHttp.GetAsync(admin.Port, "/readyz", ct);
                Assert.That(status, Is.EqualTo("HTTP/1.1 200 OK"), body);
                Assert.That(body, Does.Contain("\"ready\":true"));
                probes.Add(elapsed);
            }

            var (healthz, _, _, healthzElapsed) = await RawHttp.GetAsync(admin.Port, "/healthz", ct);
            var ordered = probes.Order().ToArray();
            var figures = $"/readyz in {string.Join(", ", probes.Select(static p => $"{p.TotalMilliseconds:F2} ms"))} (median {ordered[2].TotalMilliseconds:F2} ms), /healthz in {healthzElapsed.TotalMilliseconds:F2} ms, with {open} admin connections established";
            TestContext.Out.WriteLine(figures);
            Assert.Multiple(() =>
            {
                Assert.That(open, Is.GreaterThanOrEqualTo(AdminLimits.MaxConnections), "the cap was full when the probes came");
                Assert.That(healthz, Is.EqualTo("HTTP/1.1 200 OK"));

                // The median, so that one scheduling hiccup of a busy machine does not decide.
                Assert.That(ordered[2], Is.LessThan(ProbeBound), figures);

                // Hundreds of evictions and 503s, a line per interval at most; nothing refused.
                var most = 1 + (int)(clock.Elapsed / AdminLimits.LogInterval);
                Assert.That(host.CountEvent(1410), Is.InRange(1, most), "evictions");
                Assert.That(host.CountEvent(1413), Is.InRange(1, most), "503s to subscribers");
                Assert.That(host.CountEvent(1411), Is.Zero, "a probe always found an idle connection to replace");
                // Less the start-time warning about the machine's tcp_migrate_req (1415), not about connections.
                Assert.That(host.CountLines(" warn: ") - host.CountEvent(1415), Is.LessThanOrEqualTo(2 * most), $"no warning per connection:\n{host.Output}");
            });
        }
        finally
        {
            held.ForEach(static s => s.Dispose());
        }

        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Connection_NoRequestOrAnUnfinishedOne_ClosedAfterTheRequestTimeout(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);

        using var silent = await Sockets.ConnectAsync(admin.Port, ct);
        using var unfinished = await Sockets.ConnectAsync(admin.Port, ct);
        await unfinished.SendAsync("GET /readyz HTTP/1.1\r\nHost: 127.0.0.1\r\n"u8.ToArray(), SocketFlags.None, ct);
        var clock = Stopwatch.StartNew();
        var closed = await Task.WhenAll(
            Timed(RawHttp.ReadUntilClosedAsync(silent, TimeSpan.FromSeconds(20), ct)),
            Timed(RawHttp.ReadUntilClosedAsync(unfinished, TimeSpan.FromSeconds(20), ct)));

        TestContext.Out.WriteLine($"silent closed after {closed[0].TotalSeconds:F2} s, unfinished after {closed[1].TotalSeconds:F2} s");
        Assert.Multiple(() =>
        {
            // Kestrel checks its timeouts once a second: 5 s, up to a second or two later.
            foreach (var after in closed)
            {
                Assert.That(after, Is.GreaterThan(AdminLimits.RequestTimeout - TimeSpan.FromSeconds(1)), "closed by the timeout, not at once");
                Assert.That(after, Is.LessThan(AdminLimits.RequestTimeout + TimeSpan.FromSeconds(5)));
            }
        });
        Assert.That(await admin.GetAsync("/healthz", ct), Is.EqualTo((HttpStatusCode.OK, "ok\n")));
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);

        async Task<TimeSpan> Timed(Task read)
        {
            await read;
            return clock.Elapsed;
        }
    }

    [Test]
    public async Task Events_BeyondTheSubscriberBound_503WithAMessageUntilOneLeaves(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = TestConfigs.FreePorts(2);
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [ports[0]], [echo.Target])), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        var streams = new List<EventStreamReader>();
        try
        {
            for (var i = 0; i < AdminLimits.MaxSubscribers; i++)
            {
                streams.Add(await admin.OpenEventsAsync("", ct));
            }

            var (status, head, body, _) = await RawHttp.GetAsync(admin.Port, "/events", ct);
            Assert.Multiple(() =>
            {
                Assert.That(status, Is.EqualTo("HTTP/1.1 503 Service Unavailable"));
                Assert.That(body, Is.EqualTo($"too many /events subscribers: {AdminLimits.MaxSubscribers} streams open, the most the admin endpoint serves; try again later\n"));
                Assert.That(head, Does.Contain("Retry-After: 5").And.Contain("Connection: close"));
            });
            Assert.That(await admin.GetAsync("/apps", ct) is (HttpStatusCode.OK, _), "other routes still answer");

            streams[0].Dispose();
            streams.RemoveAt(0);

            // The host notices the client left, and has a stream for a new one.
            await Wait.UntilAsync(async () =>
            {
                if (await admin.TryOpenEventsAsync("", ct) is not { } stream)
                {
                    return false;
                }

                streams.Add(stream);
                return true;
            }, ct);

            host.RewriteConfig(HostProcess.ConfigJson(HostProcess.AppJson("a", ports, [echo.Target])));
            foreach (var stream in streams)
            {
                await stream.WaitForAsync("rollout.applied", ct);
            }
        }
        finally
        {
            streams.ForEach(static s => s.Dispose());
        }

        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Events_SubscriberStopsReading_DroppedWhileAReadingOneGetsEveryEventAndTheProxyServes(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = TestConfigs.FreePorts(1 + ExtraPorts);
        using var host = HostProcess.Start(Config(ports, echo, extra: false), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        using var reading = await admin.OpenEventsAsync("", ct);
        long bytes = 0;
        var applied = new List<long>();
        var reader = Task.Run(async () =>
        {
            while (await reading.ReadAsync(ct) is { } e)
            {
                Interlocked.Add(ref bytes, e.Data.GetRawText().Length + e.Type.Length + 16);
                if (e.Type == "rollout.applied")
                {
                    lock (applied)
                    {
                        applied.Add(e.Data.GetProperty("version").GetInt64());
                    }
                }
            }
        }, ct);
        using var stalled = await RawHttp.StalledSubscriberAsync(admin.Port, ct);
        await Wait.UntilAsync(() => RawHttp.ServerConnections(host.Pid, admin.Port).Length >= 2, TimeSpan.FromSeconds(10), "the stalled subscriber's connection");

        // Enough events to fill what lies between the host's writes and the stalled client: the
        // host's output buffer (64 KB), its socket's send buffer (32 KB) and the client's receive
        // buffer (about 2 KB), with a margin; then its next write waits until it is dropped.
        var version = 1;
        while (Interlocked.Read(ref bytes) < 256 * 1024)
        {
            version++;
            await ApplyAsync(host, Config(ports, echo, extra: version % 2 == 0), version);
        }

        await host.WaitForEventAsync(1414, AdminLimits.EventWriteTimeout + TimeSpan.FromSeconds(20));
        var (_, reset) = await RawHttp.ReadUntilClosedAsync(stalled, TimeSpan.FromSeconds(10), ct);
        TestContext.Out.WriteLine($"stalled subscriber ended by the host ({(reset ? "reset" : "closed")}) after {version} rollouts; {Interlocked.Read(ref bytes)} bytes of events read by the other");

        // The reading subscriber and the daemon went on meanwhile.
        version++;
        await ApplyAsync(host, Config(ports, echo, extra: false), version);
        await Wait.UntilAsync(() =>
        {
            lock (applied)
            {
                return applied.Count > 0 && applied[^1] == version;
            }
        }, TimeSpan.FromSeconds(10), $"rollout.applied of version {version} on the reading stream");
        lock (applied)
        {
            Assert.That(applied, Is.EqualTo(Enumerable.Range(2, version - 1).Select(static v => (long)v)), "every rollout, in order, none lost");
        }

        Assert.That(await Probe.EchoAsync(ports[0], "still proxying", ct), Is.EqualTo("still proxying"));
        Assert.That((await admin.GetAsync("/readyz", ct)).Status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
        await reader;
    }

    /// <summary>App "a" on the first port, plus <see cref="ExtraPorts"/> more when <paramref name="extra"/>.</summary>
    private static string Config(int[] ports, EchoServer echo, bool extra) =>
        HostProcess.ConfigJson(HostProcess.AppJson("a", extra ? ports : ports[..1], [echo.Target]));

    private static async Task ApplyAsync(HostProcess host, string config, int version)
    {
        host.RewriteConfig(config);
        await host.WaitForLineAsync($"config applied: version {version} ", TimeSpan.FromSeconds(20));
    }
}

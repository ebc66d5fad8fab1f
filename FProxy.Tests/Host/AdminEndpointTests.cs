using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>
/// The admin endpoint of the built host, over real HTTP on loopback: health and readiness as a
/// load balancer polls them, /apps, the /events stream, /metrics, and the shutdown delay.
/// </summary>
[CancelAfter(40_000)]
public sealed class AdminEndpointTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(20);

    [Test]
    public async Task Token_RoutesNeedItProbesDoNot(CancellationToken ct)
    {
        const string Secret = "0123456789abcdef0123456789abcdef";
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])),
            HostProcess.WithAdmin(new Dictionary<string, string?> { ["FPROXY_ADMIN_TOKEN"] = Secret }));
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);

        using var http = new HttpClient { BaseAddress = new Uri(host.AdminUrl!), Timeout = TimeSpan.FromSeconds(10) };
        async Task<HttpStatusCode> StatusAsync(string path, string? token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (token is not null)
            {
                request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            }

            using var response = await http.SendAsync(request, ct);
            return response.StatusCode;
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await StatusAsync("/apps", null), Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await StatusAsync("/metrics", "not-the-token-at-all"), Is.EqualTo(HttpStatusCode.Unauthorized));
            Assert.That(await StatusAsync("/apps", Secret), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await StatusAsync("/metrics", Secret), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await StatusAsync("/healthz", null), Is.EqualTo(HttpStatusCode.OK));
            Assert.That(await StatusAsync("/readyz", null), Is.EqualTo(HttpStatusCode.OK));
        });
    }

    [TestCase("http://0.0.0.0:9901")]
    [TestCase("http://[::]:9901")]
    public async Task Token_AdminBeyondLoopbackWithoutOne_StartFailsWithExitTwo(string url)
    {
        // Refused while reading the environment: nothing is bound.
        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("a", [TestConfigs.FreePorts(1)[0]], ["127.0.0.1:9001"])),
            new Dictionary<string, string?> { ["FPROXY_ADMIN_URL"] = url });

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.EqualTo(2), host.Output);
        Assert.That(string.Join("\n", host.ErrorLines), Does.Contain("FPROXY_ADMIN_TOKEN is required"));
    }

    [Test]
    public async Task HealthzAndReadyz_ConfigApplied_Answer200(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);

        var (_, ready) = await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        Assert.Multiple(() =>
        {
            Assert.That(ready.GetProperty("ready").GetBoolean(), Is.True);
            Assert.That(ready.GetProperty("reasons").GetArrayLength(), Is.Zero);
            Assert.That(ready.GetProperty("unboundPorts").GetArrayLength(), Is.Zero);
        });
        Assert.That(await admin.GetAsync("/healthz", ct), Is.EqualTo((HttpStatusCode.OK, "ok\n")));
        Assert.That(host.Lines, Has.Some.Contains("admin endpoint listening on http://127.0.0.1:"));
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Readyz_PortHeldWithoutReusePort_Answers503NamingItThen200OnceFreed(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = TestConfigs.FreePorts(2);
        var held = ports[1];

        // A plain listener (no SO_REUSEPORT), as nginx or any other service would hold the port.
        using (var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            holder.Bind(new IPEndPoint(IPAddress.Loopback, held));
            holder.Listen();
            using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("five-thousand", ports, [echo.Target])), HostProcess.WithAdmin());
            using var admin = new AdminClient(host);
            await host.WaitForLineAsync("config applied", StartTimeout);

            var (status, body) = await admin.GetJsonAsync("/readyz", ct);
            Assert.That(status, Is.EqualTo(HttpStatusCode.ServiceUnavailable), body.ToString());
            Assert.Multiple(() =>
            {
                Assert.That(body.GetProperty("ready").GetBoolean(), Is.False);
                Assert.That(body.GetProperty("unboundPorts").EnumerateArray().Select(static p => p.GetInt32()), Is.EqualTo(new[] { held }));
                Assert.That(body.GetProperty("reasons").EnumerateArray().Select(static r => r.GetString()),
                    Has.Some.StartsWith($"port {held} (app five-thousand) is not bound: address already in use"));
            });
            Assert.That(await admin.GetAsync("/healthz", ct), Is.EqualTo((HttpStatusCode.OK, "ok\n")), "alive, just not ready");

            var (_, apps) = await admin.GetJsonAsync("/apps", ct);
            var heldPort = apps.GetProperty("apps")[0].GetProperty("ports").EnumerateArray().Single(p => p.GetProperty("port").GetInt32() == held);
            Assert.That(heldPort.GetProperty("state").GetString(), Is.EqualTo("retrying"));
            Assert.That(heldPort.GetProperty("error").GetString(), Does.Contain("address already in use"));

            holder.Close();

            // The daemon retries the bind with backoff (at most 5 s apart).
            var (_, ready) = await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, TimeSpan.FromSeconds(15), ct);
            Assert.That(ready.GetProperty("ready").GetBoolean(), Is.True);
            Assert.That(await Probe.EchoAsync(held, "bound", ct), Is.EqualTo("bound"));
            Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
        }
    }

    [Test]
    public async Task Apps_AfterTraffic_ReportsVersionPortsTargetHealthAndBytes(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);

        Assert.That(await Probe.EchoAsync(port, "hello", ct), Is.EqualTo("hello"));

        // Bytes are counted as they are forwarded; wait for the connection's to show.
        JsonElement status = default;
        await Wait.UntilAsync(async () =>
        {
            (_, status) = await admin.GetJsonAsync("/apps", ct);
            return status.GetProperty("apps")[0].GetProperty("targets")[0].GetProperty("bytesTargetToClient").GetInt64() >= 5;
        }, ct);

        Assert.Multiple(() =>
        {
            Assert.That(status.GetProperty("version").GetInt64(), Is.EqualTo(1));
            Assert.That(status.GetProperty("hash").GetString(), Does.Match("^[0-9a-f]{64}$"));
            Assert.That(DateTimeOffset.Parse(status.GetProperty("appliedAt").GetString()!, CultureInfo.InvariantCulture),
                Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
            var app = status.GetProperty("apps").EnumerateArray().Single();
            Assert.That(app.GetProperty("name").GetString(), Is.EqualTo("a"));
            Assert.That(app.GetProperty("strategy").GetString(), Is.EqualTo("RoundRobin"));
            var listener = app.GetProperty("ports").EnumerateArray().Single();
            Assert.That(listener.GetProperty("port").GetInt32(), Is.EqualTo(port));
            Assert.That(listener.GetProperty("state").GetString(), Is.EqualTo("bound"));
            Assert.That(listener.GetProperty("error").ValueKind, Is.EqualTo(JsonValueKind.Null));
            var target = app.GetProperty("targets").EnumerateArray().Single();
            Assert.That(target.GetProperty("address").GetString(), Is.EqualTo(echo.Target));
            Assert.That(target.GetProperty("weight").GetInt32(), Is.EqualTo(1));
            Assert.That(target.GetProperty("healthy").GetBoolean(), Is.True);
            Assert.That(target.GetProperty("ejected").GetBoolean(), Is.False);
            Assert.That(target.GetProperty("bytesClientToTarget").GetInt64(), Is.EqualTo(5));
            Assert.That(target.GetProperty("bytesTargetToClient").GetInt64(), Is.EqualTo(5));
            Assert.That(app.GetProperty("bytesClientToTarget").GetInt64(), Is.EqualTo(5), "the app sums its targets");
            Assert.That(app.GetProperty("bytesTargetToClient").GetInt64(), Is.EqualTo(5));
            Assert.That(app.GetProperty("activeConnections").GetInt32(), Is.Zero.Or.EqualTo(1), "the probe's connection may still be closing");
        });
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Events_ValidThenInvalidReload_StreamsRolloutStartedAppliedThenFailed(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = TestConfigs.FreePorts(2);
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [ports[0]], [echo.Target])), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        using var events = await admin.OpenEventsAsync("", ct);

        host.RewriteConfig(HostProcess.ConfigJson(HostProcess.AppJson("a", ports, [echo.Target])));

        var started = await events.WaitForAsync("rollout.started", ct);
        var bound = await events.WaitForAsync("port.bound", ct);
        var applied = await events.WaitForAsync("rollout.applied", ct);
        Assert.Multiple(() =>
        {
            Assert.That(started.Data.GetProperty("type").GetString(), Is.EqualTo("rollout.started"));
            Assert.That(started.Data.GetProperty("version").GetInt64(), Is.EqualTo(2));
            Assert.That(started.App, Is.Null);
            Assert.That(bound.App, Is.EqualTo("a"));
            Assert.That(bound.Data.GetProperty("port").GetInt32(), Is.EqualTo(ports[1]));
            Assert.That(applied.Data.GetProperty("version").GetInt64(), Is.EqualTo(2));
            Assert.That(applied.Data.GetProperty("message").GetString(), Does.Contain("version 2"));
            Assert.That(DateTimeOffset.Parse(applied.Data.GetProperty("time").GetString()!, CultureInfo.InvariantCulture),
                Is.EqualTo(DateTimeOffset.UtcNow).Within(TimeSpan.FromMinutes(1)));
        });

        host.RewriteConfig("""{"Apps":[{"Name":"a","Ports":[1],"Targetz":[]}]}""");

        var failed = await events.WaitForAsync("rollout.failed", ct);
        Assert.That(failed.Data.GetProperty("message").GetString(), Does.Contain("unknown key \"Targetz\"").And.Contain("version 2 stays in force"));
        Assert.That(events.Seen.Count(static e => e.Type == "rollout.applied"), Is.EqualTo(1), "nothing else was applied");
        var (_, status) = await admin.GetJsonAsync("/apps", ct);
        Assert.That(status.GetProperty("version").GetInt64(), Is.EqualTo(2), "the last good config stays in force");
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Events_AppFilter_KeepsThatAppCaseInsensitivelyAndEventsOfNoApp(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = TestConfigs.FreePorts(3);
        var a = HostProcess.AppJson("a", [ports[0]], [echo.Target]);
        using var host = HostProcess.Start(HostProcess.ConfigJson(a), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        using var all = await admin.OpenEventsAsync("", ct);
        using var onlyB = await admin.OpenEventsAsync("?app=B", ct);

        host.RewriteConfig(HostProcess.ConfigJson(a, HostProcess.AppJson("b", [ports[1]], [echo.Target]), HostProcess.AppJson("c", [ports[2]], [echo.Target])));

        // Within one rollout every port event comes before rollout.applied.
        await all.WaitForAsync("rollout.applied", ct);
        await onlyB.WaitForAsync("rollout.applied", ct);
        Assert.Multiple(() =>
        {
            Assert.That(all.Seen.Where(static e => e.Type == "port.bound").Select(static e => e.App), Is.EquivalentTo(new[] { "b", "c" }));
            Assert.That(onlyB.Seen.Select(static e => e.Type), Is.EqualTo(new[] { "rollout.started", "port.bound", "rollout.applied" }),
                string.Join("\n", onlyB.Seen));
            Assert.That(onlyB.Seen.Select(static e => e.App), Is.EqualTo(new[] { null, "b", null }));
        });
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Events_HostStops_StreamEnds(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        using var events = await admin.OpenEventsAsync("", ct);

        host.Signal(HostProcess.SigTerm);

        Assert.That(await events.ReadAsync(ct), Is.Null, "the stream ends, it is not cut");
        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Metrics_AfterTraffic_ServesPrometheusTextOfTheFProxyMeter(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        for (var i = 0; i < 3; i++)
        {
            Assert.That(await Probe.EchoAsync(port, "hello", ct), Is.EqualTo("hello"));
        }

        // The exporter caches a scrape for 300 ms, and the last connection may still be closing.
        var text = "";
        var scope = "otel_scope_name=\"FProxy\"";
        await Wait.UntilAsync(async () =>
        {
            (_, text) = await admin.GetAsync("/metrics", ct);
            return text.Contains($"fproxy_connections_active{{{scope},app=\"a\",port=\"{port}\"}} 0", StringComparison.Ordinal)
                && text.Contains($"fproxy_bytes_total{{{scope},app=\"a\",direction=\"target_to_client\",target=\"{echo.Target}\"}} 15", StringComparison.Ordinal);
        }, ct);

        TestContext.Out.WriteLine(text);
        Assert.Multiple(() =>
        {
            // The names OpenTelemetry's Prometheus exporter really gives (docs/operations.md lists them).
            Assert.That(text, Does.Contain("# TYPE fproxy_connections_accepted_total counter"));
            Assert.That(text, Does.Contain($"fproxy_connections_accepted_total{{{scope},app=\"a\",port=\"{port}\"}} 3"));
            Assert.That(text, Does.Contain("# TYPE fproxy_connections_active gauge"));
            Assert.That(text, Does.Contain("# TYPE fproxy_rollouts_total counter"));
            Assert.That(text, Does.Contain($"fproxy_rollouts_total{{{scope},result=\"applied\"}} 1"));
            Assert.That(text, Does.Contain("# TYPE fproxy_bytes_total counter"));
            Assert.That(text, Does.Contain($"fproxy_bytes_total{{{scope},app=\"a\",direction=\"client_to_target\",target=\"{echo.Target}\"}} 15"));
            Assert.That(text, Does.Contain("# TYPE fproxy_upstream_connect_duration_seconds histogram"));
            Assert.That(text, Does.Contain($"fproxy_upstream_connect_duration_seconds_count{{{scope},app=\"a\",target=\"{echo.Target}\"}} 3"));
            Assert.That(text, Does.Contain($"fproxy_listener_state{{{scope},app=\"a\",port=\"{port}\"}} 1"));
            Assert.That(text, Does.Contain($"fproxy_targets_healthy{{{scope},app=\"a\"}} 1"));
            Assert.That(text, Does.Contain($"fproxy_target_connections_active{{{scope},app=\"a\",target=\"{echo.Target}\"}} 0"));
        });
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Metrics_ReloadRemovesAnAppAndAPort_TheirSeriesLeave(CancellationToken ct)
    {
        // App b's target refuses, so b records no connect duration: a histogram's series cannot
        // be removed (docs/observability.md), every other series of b must go.
        await using var echo = new EchoServer();
        var ports = TestConfigs.FreePorts(3);
        var refused = $"127.0.0.1:{Sockets.UnusedPort()}";
        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("a", [ports[0], ports[1]], [echo.Target]), HostProcess.AppJson("b", [ports[2]], [refused])),
            HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        Assert.That(await Probe.EchoAsync(ports[0], "a", ct), Is.EqualTo("a"));
        Assert.That(await Probe.EchoAsync(ports[1], "a", ct), Is.EqualTo("a"));
        Assert.That(await Sockets.ConnectAndReadEndAsync(ports[2], ct), Is.EqualTo(SocketError.ConnectionReset));
        var scope = "otel_scope_name=\"FProxy\"";
        var removedPort = $"port=\"{ports[1]}\"";
        var text = "";
        await Wait.UntilAsync(async () =>
        {
            (_, text) = await admin.GetAsync("/metrics", ct);
            return text.Contains($"fproxy_connections_failed_total{{{scope},app=\"b\",port=\"{ports[2]}\",reason=\"refused\"}} 1", StringComparison.Ordinal)
                && text.Contains($"fproxy_connections_active{{{scope},app=\"a\",{removedPort}}} 0", StringComparison.Ordinal);
        }, ct);
        Assert.That(text, Does.Contain("app=\"b\"").And.Contain(removedPort), "both series are there before the reload");

        host.RewriteConfig(HostProcess.ConfigJson(HostProcess.AppJson("a", [ports[0]], [echo.Target])));
        await host.WaitForLineAsync("config applied: version 2", StartTimeout);

        // The exporter answers a scrape within 300 ms of the last one from its cache.
        await Wait.UntilAsync(async () =>
        {
            (_, text) = await admin.GetAsync("/metrics", ct);
            return !text.Contains("app=\"b\"", StringComparison.Ordinal) && !text.Contains(removedPort, StringComparison.Ordinal);
        }, ct);
        TestContext.Out.WriteLine(text);
        Assert.That(text, Does.Contain($"fproxy_connections_accepted_total{{{scope},app=\"a\",port=\"{ports[0]}\"}} 1"), "the port that stays keeps its series");
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Metrics_OtlpEndpointSet_PushesTheFProxyMeterOverHttp(CancellationToken ct)
    {
        // A stand-in collector: OTLP over HTTP posts protobuf to /v1/metrics, where metric names
        // are plain UTF-8 strings.
        var collectorPort = TestConfigs.FreePorts(1)[0];
        using var collector = new HttpListener();
        collector.Prefixes.Add($"http://127.0.0.1:{collectorPort}/");
        collector.Start();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("a", [port], ["127.0.0.1:9"])),
            new Dictionary<string, string?>
            {
                ["OTEL_EXPORTER_OTLP_ENDPOINT"] = $"http://127.0.0.1:{collectorPort}",
                ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
                ["OTEL_METRIC_EXPORT_INTERVAL"] = "200",
            });

        // Answer every export (the first with the rollout is checked), so that none waits for its timeout at shutdown.
        var first = new TaskCompletionSource<(HttpListenerRequest Request, byte[] Body)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var serving = Task.Run(async () =>
        {
            while (collector.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await collector.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                using var received = new MemoryStream();
                await context.Request.InputStream.CopyToAsync(received, ct);

                // Exports start with the host, possibly before the first rollout is recorded:
                // wait for one that carries it.
                var text = System.Text.Encoding.UTF8.GetString(received.ToArray());
                if (text.Contains("fproxy.rollouts", StringComparison.Ordinal) && text.Contains("fproxy.listener.state", StringComparison.Ordinal))
                {
                    first.TrySetResult((context.Request, received.ToArray()));
                }

                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        }, ct);
        var (request, body) = await first.Task.WaitAsync(TimeSpan.FromSeconds(20), ct);

        Assert.That(request.HttpMethod, Is.EqualTo("POST"));
        Assert.That(request.Url!.AbsolutePath, Is.EqualTo("/v1/metrics"));
        Assert.That(request.ContentType, Is.EqualTo("application/x-protobuf"));
        var payload = System.Text.Encoding.UTF8.GetString(body);
        Assert.That(payload, Does.Contain("fproxy.rollouts").And.Contain("fproxy.listener.state"), "OTLP keeps the instruments' own names");
        Assert.That(host.ListeningPorts(), Is.EqualTo(new[] { port }), "FPROXY_ADMIN_URL=none: OTLP alone, no admin endpoint");
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
        collector.Stop();
        await serving;
    }

    [Test]
    public async Task SigTerm_ShutdownDelay_ReadyzTurns503AtOnceWhileListenersStillServeThenExitsZero(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        var delay = TimeSpan.FromSeconds(4);
        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target], drainTimeout: "1s")), HostProcess.WithAdmin(new() { ["FPROXY_SHUTDOWN_DELAY"] = "4s" }));
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        var clock = Stopwatch.StartNew();

        host.Signal(HostProcess.SigTerm);

        var (_, notReady) = await admin.WaitForStatusAsync("/readyz", HttpStatusCode.ServiceUnavailable, TimeSpan.FromSeconds(2), ct);
        var turned = clock.Elapsed;
        Assert.That(notReady.GetProperty("reasons").EnumerateArray().Select(static r => r.GetString()), Has.Member("shutting down"));
        Assert.That(turned, Is.LessThan(delay), "readiness turns false before the listeners close");

        // Still within the delay: a new connection is served, and the process is alive.
        Assert.That(await Probe.EchoAsync(port, "during the delay", ct), Is.EqualTo("during the delay"));
        Assert.That(await admin.GetAsync("/healthz", ct), Is.EqualTo((HttpStatusCode.OK, "ok\n")));
        Assert.That(clock.Elapsed, Is.LessThan(delay), "the checks ran inside the delay; the machine is too slow for this test otherwise");
        Assert.That(host.Lines, Has.Some.Contains("listeners stay open for 4s"));

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.Zero, host.Output);
        Assert.That(clock.Elapsed, Is.GreaterThanOrEqualTo(delay - TimeSpan.FromMilliseconds(100)), "listeners stayed open for the delay");
        Assert.That(host.Lines, Has.Some.Contains("shutdown complete"));
    }

    [Test]
    public async Task Start_AdminNone_ListensOnlyOnProxyPorts(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])),
            new Dictionary<string, string?> { ["FPROXY_ADMIN_URL"] = "none" });
        await host.WaitForLineAsync("config applied", StartTimeout);

        Assert.That(host.ListeningPorts(), Is.EqualTo(new[] { port }));
        Assert.That(host.Lines, Has.None.Contains("admin endpoint"));
        Assert.That(await Probe.EchoAsync(port, "hello", ct), Is.EqualTo("hello"));
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Start_AdminUrl_ListensOnProxyAndAdminPorts(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])), HostProcess.WithAdmin());
        using var admin = new AdminClient(host);
        await admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);

        Assert.That(host.ListeningPorts(), Is.EquivalentTo(new[] { port, admin.Port }));
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Start_SecondInstanceOnTheSameAdminUrl_BothServe(CancellationToken ct)
    {
        // A zero-downtime upgrade: the new process binds the same proxy and admin ports while
        // the old one still runs (both sockets have SO_REUSEPORT).
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        var environment = HostProcess.WithAdmin();
        var config = HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target]));
        using var old = HostProcess.Start(config, environment);
        using var oldAdmin = new AdminClient(old);
        await oldAdmin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);

        using var upgrade = HostProcess.Start(config, environment);
        await upgrade.WaitForLineAsync("config applied", StartTimeout);
        Assert.That(upgrade.ListeningPorts(), Is.EquivalentTo(new[] { port, oldAdmin.Port }));

        Assert.That(await old.StopAsync(ExitTimeout), Is.Zero, old.Output);
        using var newAdmin = new AdminClient(upgrade);
        await newAdmin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
        Assert.That(await Probe.EchoAsync(port, "upgraded", ct), Is.EqualTo("upgraded"));
        Assert.That(await upgrade.StopAsync(ExitTimeout), Is.Zero, upgrade.Output);
    }

    [Test]
    public async Task Start_AdminPortTaken_ExitsOneWithOneLineErrorAndBindsNoProxyPort()
    {
        var adminUrl = HostProcess.FreeAdminUrl();
        var port = TestConfigs.FreePorts(1)[0];
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, new Uri(adminUrl).Port));
        holder.Listen();

        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("a", [port], ["127.0.0.1:9"])),
            new Dictionary<string, string?> { ["FPROXY_ADMIN_URL"] = adminUrl });

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.EqualTo(1), host.Output);
        Assert.That(host.ErrorLines, Is.EqualTo(new[] { $"fproxy: FPROXY_ADMIN_URL: cannot listen on {adminUrl}: Address already in use" }), host.Output);
        Assert.That(host.Lines, Has.None.Contains("   at "), "no stack trace");
        Assert.That(host.Lines, Has.None.Contains("listening on 127.0.0.1:"), "the proxy ports are bound only after the admin endpoint");
    }

}

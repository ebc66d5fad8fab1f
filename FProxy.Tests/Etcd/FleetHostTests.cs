using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using FProxy.Tests.FTest;
using FProxy.Tests.Host;
using FProxy.Tests.Infrastructure;
using static FProxy.Tests.Etcd.EtcdApps;

namespace FProxy.Tests.Etcd;

/// <summary>
/// Two real FProxy.Host nodes on one etcd, as behind a load balancer (here both bind the same
/// ports with SO_REUSEPORT, and the kernel spreads connections over them).
/// </summary>
[TestFixture]
[Category("Etcd")]
[NonParallelizable]
[CancelAfter(120_000)]
internal sealed class FleetHostTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    [Test]
    public async Task Two_nodes_serve_one_config_converge_on_a_change_and_reject_a_bad_app_alone(CancellationToken ct)
    {
        await using var etcd = await EtcdServer.StartAsync();
        const string prefix = "/fleet";
        await using var alphaOld = new EchoServer(greeting: "o");
        await using var alphaNew = new EchoServer(greeting: "n");
        await using var beta = new EchoServer(greeting: "b");
        var ports = TestPorts.Take(3);
        var config = Path.Combine(Path.GetTempPath(), $"fproxy-fleet-{Guid.NewGuid():N}.json");
        string ConfigWith(string alphaTarget) => HostProcess.ConfigJson(
            HostProcess.AppJson("alpha", [ports[0]], [alphaTarget]), HostProcess.AppJson("beta", [ports[1]], [beta.Target]));

        // The rollout script: push, wait, check.
        await File.WriteAllTextAsync(config, ConfigWith(alphaOld.Target), ct);
        var push = await FTestRunner.RunAsync(ct, "fleet", "push", "-q", config, "--etcd", etcd.Endpoint, "--prefix", prefix);
        Assert.That(push.ExitCode, Is.Zero, push.Error);
        var pushed = long.Parse(push.Out.Trim(), System.Globalization.CultureInfo.InvariantCulture);

        using var one = FleetNode.Start(etcd.Endpoint, prefix, "node-1");
        using var two = FleetNode.Start(etcd.Endpoint, prefix, "node-2");
        FleetNode[] nodes = [one, two];
        var wait = await FTestRunner.RunAsync(ct, "fleet", "wait", pushed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--timeout", "30s", "--etcd", etcd.Endpoint, "--prefix", prefix);
        Assert.That(wait.ExitCode, Is.Zero, wait.Error);
        foreach (var node in nodes)
        {
            await node.Admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
            Assert.That(await node.AppliedRevisionAsync(ct), Is.GreaterThanOrEqualTo(pushed));
        }

        var status = await FTestRunner.RunAsync(ct, "fleet", "status", "--etcd", etcd.Endpoint, "--prefix", prefix);
        Assert.That(status.ExitCode, Is.Zero, status.Error);
        Assert.That(status.Out, Does.Contain("node-1").And.Contain("node-2"));

        Assert.That(await TagAsync(ports[0], ct), Is.EqualTo("o"));

        // Connections of the other app, open across the change.
        var held = new List<Socket>();
        for (var i = 0; i < 6; i++)
        {
            var socket = await Sockets.ConnectAsync(ports[1], ct);
            Assert.That(Encoding.ASCII.GetString(await Sockets.ReadAsync(socket, 1, ct)), Is.EqualTo("b"));
            held.Add(socket);
        }

        // A change to one app reaches both nodes within 2 s of the push.
        await File.WriteAllTextAsync(config, ConfigWith(alphaNew.Target), ct);
        push = await FTestRunner.RunAsync(ct, "fleet", "push", "-q", config, "--etcd", etcd.Endpoint, "--prefix", prefix);
        var clock = Stopwatch.StartNew();
        Assert.That(push.ExitCode, Is.Zero, push.Error);
        var changed = long.Parse(push.Out.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        await WaitAsync(async () => await one.AppliedRevisionAsync(ct) >= changed && await two.AppliedRevisionAsync(ct) >= changed, "both nodes applied the change", ct);
        var converged = clock.Elapsed;
        TestContext.Progress.WriteLine($"a change converged on both nodes {converged.TotalMilliseconds:0} ms after the push returned");
        Assert.That(converged, Is.LessThan(TimeSpan.FromSeconds(2)));
        wait = await FTestRunner.RunAsync(ct, "fleet", "wait", changed.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--timeout", "5s", "--etcd", etcd.Endpoint, "--prefix", prefix);
        Assert.That(wait.ExitCode, Is.Zero, wait.Error);
        for (var i = 0; i < 10; i++)
        {
            Assert.That(await TagAsync(ports[0], ct), Is.EqualTo("n"), "new connections reach the new target on either node");
        }

        foreach (var socket in held)
        {
            var echo = Encoding.ASCII.GetBytes("still");
            await socket.SendAsync(echo, SocketFlags.None, ct);
            Assert.That(Encoding.ASCII.GetString(await Sockets.ReadAsync(socket, echo.Length, ct)), Is.EqualTo("still"), "the other app's connections are untouched");
        }

        Assert.That(one.Host.Lines.Concat(two.Host.Lines).Count(static l => l.Contains("beta:", StringComparison.Ordinal) && l.Contains("listening", StringComparison.Ordinal)),
            Is.EqualTo(2), "beta's listener was bound once per node, never again");

        // A bad app is rejected alone on both nodes, in their logs, events and reports.
        using var events = await one.Admin.OpenEventsAsync(string.Empty, ct);
        var bad = await etcd.PutAsync(Key("gamma", prefix), "{\"Name\":\"gamma\",\"Ports\":[1],\"Targetz\":[]}");
        foreach (var node in nodes)
        {
            await WaitAsync(async () => (await node.SourceAsync(ct)).GetProperty("rejected").TryGetProperty("gamma", out _), $"{node.NodeId} rejects gamma", ct);
            Assert.That(node.Host.Lines, Has.Some.Contains($"({prefix}/apps/gamma)").And.Contains("[1002]"), "logged with the key");
        }

        await events.WaitForAsync("rollout.failed", ct, e => e.Data.GetProperty("message").GetString()!.Contains($"{prefix}/apps/gamma", StringComparison.Ordinal));
        await WaitAsync(async () => (await ReportsAsync(etcd, prefix)).All(r => r.Errors.ContainsKey("gamma") && r.AppliedRevision >= bad), "both reports name gamma", ct);
        Assert.That(await TagAsync(ports[0], ct), Is.EqualTo("n"), "the other apps serve on");

        // Two apps claim one port: the key created first keeps it, on both nodes; when it gives
        // the port up, the other takes it.
        await etcd.PutAsync(Key("delta", prefix), Json("delta", [ports[1], ports[2]], [alphaNew.Target]));
        foreach (var node in nodes)
        {
            await WaitAsync(async () => (await node.SourceAsync(ct)).GetProperty("rejected").TryGetProperty("delta", out var why)
                && why.GetString()!.Contains($"port {ports[1]} is already used by app \"beta\"", StringComparison.Ordinal), $"{node.NodeId} rejects delta", ct);
        }

        Assert.That(await TagAsync(ports[1], ct), Is.EqualTo("b"));
        await etcd.PutAsync(Key("beta", prefix), Json("beta", [TestPorts.Take(1)[0]], [beta.Target]));
        await WaitAsync(async () => await TryTagAsync(ports[1], ct) == "n", "delta took the port beta gave up, on both nodes", ct);
        for (var i = 0; i < 10; i++)
        {
            Assert.That(await TagAsync(ports[1], ct), Is.EqualTo("n"));
        }

        foreach (var socket in held)
        {
            socket.Dispose();
        }

        // Reports follow within a second or so: both name one config.
        await WaitAsync(async () => (await ReportsAsync(etcd, prefix)).Select(static r => r.ConfigHash).Distinct().Count() == 1, "both reports name one config", ct);
        var reports = await ReportsAsync(etcd, prefix);
        Assert.That(reports.Select(static r => r.NodeId), Is.EquivalentTo(new[] { "node-1", "node-2" }));
        foreach (var node in nodes)
        {
            Assert.That(await node.Host.StopAsync(TimeSpan.FromSeconds(20)), Is.Zero, node.Host.Output);
        }

        Assert.That(await ReportsAsync(etcd, prefix), Is.Empty, "a node that stops deletes its report");
        File.Delete(config);
    }

    [Test]
    public async Task With_etcd_down_both_nodes_serve_ready_and_stale_a_restarted_node_serves_its_copy_and_all_resync(CancellationToken ct)
    {
        await using var etcd = await EtcdServer.StartAsync();
        const string prefix = "/down";
        await using var first = new EchoServer(greeting: "1");
        await using var second = new EchoServer(greeting: "2");
        var ports = TestPorts.Take(2);
        var pushed = await etcd.PutAsync(Key("app", prefix), Json("app", [ports[0]], [first.Target]));
        using var one = FleetNode.Start(etcd.Endpoint, prefix, "node-1");
        var two = FleetNode.Start(etcd.Endpoint, prefix, "node-2");
        try
        {
            foreach (var node in new[] { one, two })
            {
                await WaitAsync(async () => await node.AppliedRevisionAsync(ct) >= pushed, $"{node.NodeId} applied", ct);
            }

            await etcd.StopAsync();
            foreach (var node in new[] { one, two })
            {
                await WaitAsync(async () => !(await node.SourceAsync(ct)).GetProperty("connected").GetBoolean(), $"{node.NodeId} sees etcd gone", ct);
                Assert.That(await node.ReadyStatusAsync(ct), Is.EqualTo(HttpStatusCode.OK), "serving is what the load balancer needs");
                var source = await node.SourceAsync(ct);
                Assert.That(source.GetProperty("revision").GetInt64(), Is.EqualTo(pushed), "the revision in force");
                Assert.That(source.GetProperty("lastSync").ValueKind, Is.EqualTo(JsonValueKind.String));
                await node.Host.WaitForEventAsync(1601, TimeSpan.FromSeconds(10));
            }

            Assert.That(await TagAsync(ports[0], ct), Is.EqualTo("1"), "still serving");

            // A node restarted while etcd is down serves its last good copy and is ready.
            Assert.That(await two.Host.StopAsync(TimeSpan.FromSeconds(20)), Is.Zero);
            two.Dispose();
            two = FleetNode.Start(etcd.Endpoint, prefix, "node-2", two.StateDirectory);
            await two.Admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, StartTimeout, ct);
            Assert.That(two.Host.CountEvent(1605), Is.EqualTo(1), two.Host.Output);
            Assert.That(await two.AppliedRevisionAsync(ct), Is.EqualTo(pushed));

            // etcd back, and a change made before the nodes reconnect: both resync and apply it.
            await etcd.RestartAsync();
            var changed = await etcd.PutAsync(Key("app", prefix), Json("app", [ports[0]], [second.Target]));
            foreach (var node in new[] { one, two })
            {
                await WaitAsync(async () => await node.AppliedRevisionAsync(ct) >= changed && (await node.SourceAsync(ct)).GetProperty("connected").GetBoolean(),
                    $"{node.NodeId} resynced", ct);
            }

            Assert.That(one.Host.CountEvent(1602), Is.EqualTo(1), "one info line when etcd is back");
            for (var i = 0; i < 6; i++)
            {
                Assert.That(await TagAsync(ports[0], ct), Is.EqualTo("2"));
            }
        }
        finally
        {
            two.Dispose();
        }
    }

    [Test]
    public async Task A_node_killed_with_SIGKILL_disappears_from_nodes_within_the_lease_TTL(CancellationToken ct)
    {
        await using var etcd = await EtcdServer.StartAsync();
        const string prefix = "/kill";
        using var node = FleetNode.Start(etcd.Endpoint, prefix, "doomed");
        await WaitAsync(async () => (await ReportsAsync(etcd, prefix)).Count == 1, "the node's report", ct);
        var report = (await ReportsAsync(etcd, prefix)).Single();
        Assert.That(report.Ready, Is.True);

        // A report deleted (or replaced by a process taking over with the same id, then revoked)
        // is written again: the node reads it back every 5 s.
        await etcd.DeleteAsync($"{prefix}/nodes/doomed");
        await WaitAsync(async () => (await ReportsAsync(etcd, prefix)).Count == 1, "the report written again", ct, seconds: 8);

        var clock = Stopwatch.StartNew();
        Process.GetProcessById(node.Host.Pid).Kill();
        await WaitAsync(async () => (await ReportsAsync(etcd, prefix)).Count == 0, "the report gone", ct, seconds: 15);
        TestContext.Progress.WriteLine($"report of a SIGKILLed node gone after {clock.Elapsed.TotalSeconds:0.0} s (lease TTL 10 s)");
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(11)), "within the lease TTL");
    }

    [Test]
    public async Task With_no_copy_and_no_etcd_a_node_waits_unready_then_serves_when_etcd_answers(CancellationToken ct)
    {
        await using var etcd = await EtcdServer.StartAsync();
        const string prefix = "/late";
        await using var echo = new EchoServer(greeting: "l");
        var port = TestPorts.Take(1)[0];
        await etcd.PutAsync(Key("app", prefix), Json("app", [port], [echo.Target]));
        await using var relay = new TcpRelay(IPEndPoint.Parse(new Uri(etcd.Endpoint).Authority));
        relay.Cut();

        using var node = FleetNode.Start(relay.Url, prefix, "late-1");
        var (status, json) = await node.Admin.WaitForStatusAsync("/readyz", HttpStatusCode.ServiceUnavailable, StartTimeout, ct);
        Assert.That(json.GetProperty("reasons").EnumerateArray().Select(static r => r.GetString()), Has.Some.Contains("no config applied"));
        await node.Host.WaitForEventAsync(1603, TimeSpan.FromSeconds(10));
        Assert.That((await node.SourceAsync(ct)).GetProperty("connected").GetBoolean(), Is.False);

        relay.Restore();
        await node.Admin.WaitForStatusAsync("/readyz", HttpStatusCode.OK, TimeSpan.FromSeconds(15), ct);
        Assert.That(await TagAsync(port, ct), Is.EqualTo("l"));
    }

    private static async Task<List<FProxy.Etcd.NodeReport>> ReportsAsync(EtcdServer etcd, string prefix) =>
        [.. (await etcd.GetPrefixAsync(prefix + "/nodes/")).Values.Select(static v => FProxy.Etcd.NodeReport.FromJson(v)!)];

    /// <summary>The one-letter tag the target behind <paramref name="port"/> greets with.</summary>
    private static async Task<string> TagAsync(int port, CancellationToken ct)
    {
        using var socket = await Sockets.ConnectAsync(port, ct);
        return Encoding.ASCII.GetString(await Sockets.ReadAsync(socket, 1, ct));
    }

    private static async Task<string?> TryTagAsync(int port, CancellationToken ct)
    {
        try
        {
            return await TagAsync(port, ct);
        }
        catch (Exception e) when (e is SocketException or IOException or EndOfStreamException)
        {
            return null;
        }
    }

    private static async Task WaitAsync(Func<Task<bool>> condition, string what, CancellationToken ct, double seconds = 20)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {seconds} s waiting for: {what}");
            }

            await Task.Delay(20, ct);
        }
    }
}

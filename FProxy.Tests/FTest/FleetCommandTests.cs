extern alias FTestTool;

using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Etcdserverpb;
using FProxy.Configuration;
using FProxy.Etcd;
using FProxy.Tests.Infrastructure;
using FTestTool::FProxy.FTest.Fleet;
using FTestTool::FProxy.FTest.Net;
using Google.Protobuf;

namespace FProxy.Tests.FTest;

/// <summary>
/// <c>ftest fleet push|status|wait</c> against a real etcd (one for the fixture, a prefix of its
/// own for each test). Node reports are written by the tests, as nodes would write them.
/// </summary>
[Category("Etcd")]
[CancelAfter(60_000)]
public sealed partial class FleetCommandTests
{
    private static int s_tests;
    private EtcdServer _etcd = null!;
    private string _dir = null!;
    private string _prefix = null!;

    [OneTimeSetUp]
    public async Task StartEtcd() => _etcd = await EtcdServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopEtcd() => await _etcd.DisposeAsync();

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("fproxy-fleet-").FullName;
        _prefix = "/fleet-" + Interlocked.Increment(ref s_tests).ToString(CultureInfo.InvariantCulture);
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private string AppsPrefix => EtcdLayout.AppsPrefix(_prefix);

    [Test]
    public async Task Push_NewConfig_WritesEachAppAtItsKeyInOneTransactionAndPrintsItsRevision(CancellationToken ct)
    {
        var config = WriteConfig(App("a", 15001), App("b", 15002), App("c", 15003));

        var run = await FleetAsync(ct, "push", config);

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        var stored = await AppKeysAsync();
        Assert.That(stored.Keys, Is.EquivalentTo(new[] { Key("a"), Key("b"), Key("c") }));
        var revision = Revision(run);
        Assert.Multiple(() =>
        {
            Assert.That(stored.Values.Select(static kv => kv.ModRevision), Is.All.EqualTo(revision), "one transaction, the printed revision");
            Assert.That(run.Out, Does.Contain($"+ {Key("a")}\n+ {Key("b")}\n+ {Key("c")}\n"));
            Assert.That(run.Out, Does.Contain("pushed 3 apps: 3 added, 0 changed, 0 deleted, 0 unchanged"));
            Assert.That(run.Out.TrimEnd(), Does.EndWith($"revision {revision}"));
            Assert.That(run.Error, Is.Empty);
        });

        // Each value is the app as fproxy reads one from etcd.
        var b = ConfigParser.ParseApp(stored[Key("b")].Value.ToStringUtf8(), Key("b"));
        Assert.That(b.Name, Is.EqualTo("b"));
        Assert.That(b.Ports, Is.EqualTo(new[] { 15002 }));
    }

    [Test]
    public async Task Push_SameConfigAgain_WritesNothingAndPrintsTheSameRevision(CancellationToken ct)
    {
        var config = WriteConfig(App("a", 15001), App("b", 15002));
        var first = Revision(await FleetAsync(ct, "push", config));
        await _etcd.PutAsync("/elsewhere", "moves the store's revision, not the apps'");
        var storeRevision = await _etcd.RevisionAsync();

        var again = await FleetAsync(ct, "push", config);

        Assert.That(again.ExitCode, Is.Zero, again.Error);
        var after = await _etcd.RevisionAsync();
        Assert.Multiple(() =>
        {
            Assert.That(Revision(again), Is.EqualTo(first));
            Assert.That(again.Out, Does.StartWith("no changes: 2 apps up to date"));
            Assert.That(after, Is.EqualTo(storeRevision), "nothing written");
        });
    }

    [Test]
    public async Task Push_OnlyCommentsAndLayoutChanged_WritesNothing(CancellationToken ct)
    {
        var first = Revision(await FleetAsync(ct, "push", WriteConfig(App("a", 15001))));
        var storeRevision = await _etcd.RevisionAsync();
        var reformatted = WriteConfig("""
            // The same app, laid out differently and commented.
            {
              "Name": "a",    "Ports": [ 15001 ],
              /* where it goes */ "Targets": [ "127.0.0.1:9001", ],
            }
            """);

        var run = await FleetAsync(ct, "push", reformatted);

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(Revision(run), Is.EqualTo(first));
        Assert.That(await _etcd.RevisionAsync(), Is.EqualTo(storeRevision));
    }

    [Test]
    public async Task Push_AppRemovedAndAppChanged_DeletesOneRewritesOtherAndLeavesTheRest(CancellationToken ct)
    {
        var first = Revision(await FleetAsync(ct, "push", WriteConfig(App("a", 15001), App("b", 15002), App("c", 15003))));

        var run = await FleetAsync(ct, "push", WriteConfig(App("a", 15001, "127.0.0.1:9002"), App("b", 15002)));

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        var revision = Revision(run);
        var stored = await AppKeysAsync();
        Assert.Multiple(() =>
        {
            Assert.That(revision, Is.GreaterThan(first));
            Assert.That(stored.Keys, Is.EquivalentTo(new[] { Key("a"), Key("b") }), "c deleted");
            Assert.That(stored[Key("a")].ModRevision, Is.EqualTo(revision), "a rewritten");
            Assert.That(stored[Key("a")].Value.ToStringUtf8(), Does.Contain("127.0.0.1:9002"));
            Assert.That(stored[Key("b")].ModRevision, Is.EqualTo(first), "b left alone");
            Assert.That(run.Out, Does.StartWith($"~ {Key("a")}\n- {Key("c")}\n"));
            Assert.That(run.Out, Does.Contain("pushed 2 apps: 0 added, 1 changed, 1 deleted, 1 unchanged"));
        });
    }

    [Test]
    public async Task Push_DryRun_ShowsAddedChangedAndDeletedAndWritesNothing(CancellationToken ct)
    {
        await FleetAsync(ct, "push", WriteConfig(App("a", 15001), App("b", 15002), App("c", 15003)));
        var storeRevision = await _etcd.RevisionAsync();

        var run = await FleetAsync(ct, "push", "--dry-run", WriteConfig(App("a", 15001, "127.0.0.1:9002"), App("c", 15003), App("d", 15004)));

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        var after = await _etcd.RevisionAsync();
        var stored = await AppKeysAsync();
        Assert.Multiple(() =>
        {
            Assert.That(run.Out, Is.EqualTo(
                $"~ {Key("a")}\n- {Key("b")}\n+ {Key("d")}\ndry run: 1 added, 1 changed, 1 deleted, 1 unchanged; nothing written\n"));
            Assert.That(after, Is.EqualTo(storeRevision), "nothing written");
            Assert.That(stored.Keys, Is.EquivalentTo(new[] { Key("a"), Key("b"), Key("c") }));
        });
    }

    [Test]
    public async Task Push_InvalidConfig_FailsNamingEveryProblemAndWritesNothing(CancellationToken ct)
    {
        var storeRevision = await _etcd.RevisionAsync();
        var config = WriteConfig(App("a", 15001), App("b", 15001), """{ "Name": "c", "Ports": [15003], "Targets": [] }""");

        var run = await FleetAsync(ct, "push", config);

        run.AssertOneLineError(2, $"{config} is invalid, nothing pushed: ");
        var after = await _etcd.RevisionAsync();
        Assert.Multiple(() =>
        {
            Assert.That(run.Error, Does.Contain("15001").And.Contain("\"c\""), "both problems named");
            Assert.That(run.Out, Is.Empty);
            Assert.That(after, Is.EqualTo(storeRevision), "nothing written");
        });
    }

    [Test]
    public async Task Push_Quiet_PrintsOnlyTheRevision(CancellationToken ct)
    {
        var run = await FleetAsync(ct, "push", "-q", WriteConfig(App("a", 15001)));

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(run.Out, Does.Match(@"^\d+\n$"));
        Assert.That(long.Parse(run.Out, CultureInfo.InvariantCulture), Is.EqualTo((await AppKeysAsync())[Key("a")].ModRevision));
    }

    [Test]
    public async Task Push_AppCreatedAfterTheRead_FailsAndWritesNothing(CancellationToken ct)
    {
        using var connection = new EtcdConnection(_etcd.Options(_prefix));
        var store = new FleetStore(connection);
        var plan = PushPlan.Create(store.Prefix, [new("a", "{}")], await store.ReadAppsAsync(ct));
        await _etcd.PutAsync(Key("other"), "{}");

        var e = Assert.ThrowsAsync<ToolException>(() => store.CommitAsync(plan, ct));

        Assert.That(e!.Message, Does.Contain("changed during the push").And.Contain("run it again"));
        Assert.That((await AppKeysAsync()).Keys, Is.EquivalentTo(new[] { Key("other") }));
    }

    [Test]
    public async Task Push_UnchangedAppDeletedAfterTheRead_FailsAndWritesNothing(CancellationToken ct)
    {
        await _etcd.PutAsync(Key("kept"), "{}");
        using var connection = new EtcdConnection(_etcd.Options(_prefix));
        var store = new FleetStore(connection);
        var plan = PushPlan.Create(store.Prefix, [new("kept", "{}"), new("new", "{}")], await store.ReadAppsAsync(ct));
        Assert.That(plan.Unchanged, Is.EqualTo(new[] { Key("kept") }));
        await _etcd.DeleteAsync(Key("kept"));

        var e = Assert.ThrowsAsync<ToolException>(() => store.CommitAsync(plan, ct));

        Assert.That(e!.Message, Does.Contain("changed during the push"));
        Assert.That(await AppKeysAsync(), Is.Empty);
    }

    [Test]
    public async Task Push_OneChangeInAFleetOfMoreAppsThanEtcdTakesOperations_Succeeds(CancellationToken ct)
    {
        // etcd's default --max-txn-ops is 128: a push compares what it read, not one key per app.
        var apps = Enumerable.Range(0, 200).Select(static i => App($"app{i}", 20000 + i)).ToArray();
        foreach (var count in new[] { 100, 200 })
        {
            var grow = await FleetAsync(ct, "push", WriteConfig(apps[..count]));
            Assert.That(grow.ExitCode, Is.Zero, grow.Error);
        }

        Assert.That(await AppKeysAsync(), Has.Count.EqualTo(200));
        apps[7] = App("app7", 20000 + 7, "127.0.0.1:9002");
        var push = await FleetAsync(ct, "push", WriteConfig(apps));
        Assert.That(push.ExitCode, Is.Zero, push.Error);
        Assert.That(push.Out, Does.Contain("~ " + Key("app7")));
    }

    [Test]
    public async Task Status_NodeThatHasNotAppliedADelete_Lags(CancellationToken ct)
    {
        var pushed = Revision(await FleetAsync(ct, "push", WriteConfig(App("a", 15101), App("b", 15102))));
        await WriteNodeAsync("node-a", pushed);
        var deleted = Revision(await FleetAsync(ct, "push", WriteConfig(App("a", 15101))));
        Assert.That(deleted, Is.GreaterThan(pushed));

        var run = await FleetAsync(ct, "status", "--json");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        using var json = System.Text.Json.JsonDocument.Parse(run.Out);
        var node = json.RootElement.GetProperty("nodes")[0];
        Assert.That(node.GetProperty("lag").GetInt64(), Is.EqualTo(deleted - pushed), "measured against the push that deleted b");
        var again = await FleetAsync(ct, "push", "-q", WriteConfig(App("a", 15101)));
        Assert.That(again.Out.Trim(), Is.EqualTo(deleted.ToString(CultureInfo.InvariantCulture)), "a push that changes nothing prints the delete's revision");
    }

    [Test]
    public async Task Status_ListsEachNodeWithAppliedRevisionLagReadinessAndErrors(CancellationToken ct)
    {
        var revision = Revision(await FleetAsync(ct, "push", WriteConfig(App("a", 15001), App("b", 15002))));
        await WriteNodeAsync("node-a", revision);
        await WriteNodeAsync("node-b", revision - 1, ready: false, errors: new() { ["b"] = "port 15002 is in use" });

        var run = await FleetAsync(ct, "status");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        var lines = run.Out.Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Does.Contain($"prefix {_prefix}: 2 apps, last changed at revision {revision}"));
            Assert.That(Columns(lines[1]), Is.EqualTo(new[] { "NODE", "APPLIED", "LAG", "READY", "APPS", "VERSION", "HASH", "ERRORS" }));
            Assert.That(Columns(lines[2]), Is.EqualTo(new[] { "node-a", $"{revision}", "0", "yes", "2", "7", "0123456789ab", "0" }));
            Assert.That(Columns(lines[3]), Is.EqualTo(new[] { "node-b", $"{revision - 1}", "1", "no", "2", "7", "0123456789ab", "1" }));
            Assert.That(lines[4], Is.EqualTo("node-b: app \"b\": port 15002 is in use"));
            Assert.That(lines[5], Is.EqualTo("2 nodes: 1 up to date, 1 behind, 1 not ready, 1 with errors"));
        });
    }

    [Test]
    public async Task Status_Json_HasEveryNodeWithItsLag(CancellationToken ct)
    {
        var revision = Revision(await FleetAsync(ct, "push", WriteConfig(App("a", 15001))));
        await WriteNodeAsync("node-a", revision - 1);
        await _etcd.PutAsync(EtcdLayout.NodeKey(_prefix, "node-x"), "not a report");

        var run = await FleetAsync(ct, "status", "--json");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        using var json = JsonDocument.Parse(run.Out);
        var nodes = json.RootElement.GetProperty("nodes");
        Assert.Multiple(() =>
        {
            Assert.That(json.RootElement.GetProperty("appsRevision").GetInt64(), Is.EqualTo(revision));
            Assert.That(nodes.GetArrayLength(), Is.EqualTo(2));
            Assert.That(nodes[0].GetProperty("nodeId").GetString(), Is.EqualTo("node-a"));
            Assert.That(nodes[0].GetProperty("lag").GetInt64(), Is.EqualTo(1));
            Assert.That(nodes[1].GetProperty("unreadable").GetBoolean(), Is.True);
        });
    }

    [Test]
    public async Task Status_NodeWhoseLeaseEnded_IsNoLongerListed(CancellationToken ct)
    {
        var lease = await WriteNodeAsync("node-a", 1);
        Assert.That((await FleetAsync(ct, "status")).Out, Does.Contain("node-a"));

        await _etcd.Connection.Client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, null, _etcd.Connection.RequestDeadline, ct);
        var run = await FleetAsync(ct, "status");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(run.Out, Does.Contain($"no nodes reported under {_prefix}/nodes/").And.Not.Contain("node-a"));
    }

    [Test]
    public async Task Wait_EveryNodeAtOrPastTheRevision_Exits0(CancellationToken ct)
    {
        var revision = Revision(await FleetAsync(ct, "push", WriteConfig(App("a", 15001))));
        await WriteNodeAsync("node-a", revision);
        await WriteNodeAsync("node-b", revision + 5);

        var run = await FleetAsync(ct, "wait", $"{revision}", "--timeout", "10s");

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(run.Out, Does.Contain($"all 2 nodes have applied revision {revision} (lowest: {revision})"));
    }

    [Test]
    public async Task Wait_NodeCatchesUpDuringTheWait_Exits0(CancellationToken ct)
    {
        var revision = Revision(await FleetAsync(ct, "push", WriteConfig(App("a", 15001))));
        await WriteNodeAsync("node-a", revision);
        await WriteNodeAsync("node-b", revision - 1);

        var wait = FleetAsync(ct, "wait", $"{revision}", "--timeout", "20s", "--interval", "20ms");
        Assert.That(wait.IsCompleted, Is.False);
        await WriteNodeAsync("node-b", revision);
        var run = await wait;

        Assert.That(run.ExitCode, Is.Zero, run.Error);
    }

    [Test]
    public async Task Wait_NodeBehindAtTheTimeout_Exits1NamingIt(CancellationToken ct)
    {
        var revision = Revision(await FleetAsync(ct, "push", WriteConfig(App("a", 15001))));
        await WriteNodeAsync("node-a", revision);
        await WriteNodeAsync("node-b", revision - 1);

        var run = await FleetAsync(ct, "wait", $"{revision}", "--timeout", "1s");

        run.AssertOneLineError(1, $"timed out after 1s waiting for revision {revision}: 1 of 2 nodes behind: node-b at {revision - 1}");
        Assert.That(run.Out, Is.EqualTo($"behind: node-b at {revision - 1}\n"));
    }

    [Test]
    public async Task Wait_NoNodes_Exits1SayingNoneReported(CancellationToken ct)
    {
        var run = await FleetAsync(ct, "wait", "1", "--timeout", "300ms");

        run.AssertOneLineError(1, $"no nodes reported under {_prefix}/nodes/");
    }

    [Test]
    public async Task Wait_EtcdDownAtFirst_KeepsTryingAndSucceedsOnceItAnswers(CancellationToken ct)
    {
        await using var etcd = await EtcdServer.StartAsync();
        var report = new NodeReport("node-a", 5, true, 1, "hash", 1, new Dictionary<string, string>(), DateTimeOffset.UtcNow);
        await etcd.PutAsync(EtcdLayout.NodeKey(_prefix, "node-a"), report.ToJson());
        await etcd.StopAsync();

        var wait = FTestRunner.RunAsync(ct, "fleet", "wait", "5", "--timeout", "30s", "--interval", "50ms", "--etcd", etcd.Endpoint, "--prefix", _prefix);
        await etcd.RestartAsync();
        var run = await wait;

        Assert.That(run.ExitCode, Is.Zero, run.Error);
    }

    [Test]
    public async Task Wait_EtcdUnreachableUntilTheTimeout_Exits1NamingIt(CancellationToken ct)
    {
        var endpoint = $"http://127.0.0.1:{Sockets.UnusedPort()}";

        var run = await FTestRunner.RunAsync(ct, "fleet", "wait", "5", "--timeout", "500ms", "--etcd", endpoint);

        run.AssertOneLineError(1, $"timed out after 500ms waiting for revision 5: etcd unreachable: {endpoint}: ");
    }

    [TestCase("push")]
    [TestCase("status")]
    public async Task Fleet_UnreachableEtcd_Exits1NamingTheEndpoint(string command, CancellationToken ct)
    {
        var endpoint = $"http://127.0.0.1:{Sockets.UnusedPort()}";
        string[] args = command == "push" ? ["fleet", "push", WriteConfig(App("a", 15001))] : ["fleet", command];

        var run = await FTestRunner.RunAsync(ct, [.. args, "--etcd", endpoint]);

        run.AssertOneLineError(1, $"etcd unreachable: {endpoint}: Unavailable: ");
    }

    [Test]
    public async Task Fleet_SecondEndpointAnswers_WhenTheFirstIsDown(CancellationToken ct)
    {
        var down = $"http://127.0.0.1:{Sockets.UnusedPort()}";

        var run = await FTestRunner.RunAsync(ct, "fleet", "status", "--etcd", $"{down},{_etcd.Endpoint}", "--prefix", _prefix);

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(run.Out, Does.Contain("no nodes reported"));
    }

    [Test]
    [NonParallelizable]
    public async Task Fleet_NoEndpointAnywhere_IsAUsageErrorNamingTheOptionAndTheVariable(CancellationToken ct)
    {
        using var _ = new EnvironmentVariables(("FPROXY_ETCD_ENDPOINTS", null));

        var run = await FTestRunner.RunAsync(ct, "fleet", "status");

        run.AssertOneLineError(2, "no etcd endpoint: give --etcd URL[,URL] or set FPROXY_ETCD_ENDPOINTS");
    }

    [Test]
    public async Task Fleet_EndpointNotAUrl_Exits1NamingIt(CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "fleet", "status", "--etcd", "127.0.0.1:2379");

        run.AssertOneLineError(1, "invalid --etcd: \"127.0.0.1:2379\" is not an http:// or https:// URL");
    }

    [Test]
    [NonParallelizable]
    public async Task Fleet_EnvironmentVariables_AreUsedWhenNoOptionIsGiven(CancellationToken ct)
    {
        var config = WriteConfig(App("a", 15001));
        using (new EnvironmentVariables(("FPROXY_ETCD_ENDPOINTS", _etcd.Endpoint), ("FPROXY_ETCD_PREFIX", _prefix)))
        {
            var run = await FTestRunner.RunAsync(ct, "fleet", "push", config);

            Assert.That(run.ExitCode, Is.Zero, run.Error);
            Assert.That((await AppKeysAsync()).Keys, Is.EquivalentTo(new[] { Key("a") }));
        }

        // The options win over the variables.
        var unreachable = $"http://127.0.0.1:{Sockets.UnusedPort()}";
        using (new EnvironmentVariables(("FPROXY_ETCD_ENDPOINTS", unreachable), ("FPROXY_ETCD_PREFIX", "/somewhere-else")))
        {
            var run = await FTestRunner.RunAsync(ct, "fleet", "push", "-q", config, "--etcd", _etcd.Endpoint, "--prefix", _prefix);

            Assert.That(run.ExitCode, Is.Zero, run.Error);
            Assert.That(long.Parse(run.Out, CultureInfo.InvariantCulture), Is.EqualTo((await AppKeysAsync())[Key("a")].ModRevision), "no changes: same prefix");
        }
    }

    [Test]
    [NonParallelizable]
    public async Task Fleet_UserWithoutPassword_IsAUsageError(CancellationToken ct)
    {
        using var _ = new EnvironmentVariables(("FPROXY_ETCD_PASSWORD", null));

        var run = await FTestRunner.RunAsync(ct, "fleet", "status", "--etcd", _etcd.Endpoint, "--user", "root");

        run.AssertOneLineError(2, "user \"root\" without a password: give --password or set FPROXY_ETCD_PASSWORD");
    }

    [Test]
    public async Task Fleet_MissingArgument_PointsAtTheSubcommandsHelp(CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "fleet", "push");

        run.AssertOneLineError(2, "(see ftest fleet push --help)");
    }

    [Test]
    public async Task Wait_RevisionNotANumber_Exits1(CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "fleet", "wait", "latest", "--etcd", _etcd.Endpoint);

        run.AssertOneLineError(1, "invalid REVISION \"latest\"");
    }

    private Task<FTestRun> FleetAsync(CancellationToken ct, params string[] args) =>
        FTestRunner.RunAsync(ct, ["fleet", .. args, "--etcd", _etcd.Endpoint, "--prefix", _prefix]);

    private string Key(string app) => EtcdLayout.AppKey(_prefix, app);

    private static string App(string name, int port, string target = "127.0.0.1:9001") =>
        $$"""{ "Name": "{{name}}", "Ports": [{{port}}], "Targets": ["{{target}}"] }""";

    /// <summary>A config file of these apps, with a comment and a trailing comma, as people write them.</summary>
    private string WriteConfig(params string[] apps)
    {
        var path = Path.Combine(_dir, $"config-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "{\n  // pushed by a test\n  \"Apps\": [\n" + string.Join(",\n", apps) + ",\n  ],\n}\n");
        return path;
    }

    private static long Revision(FTestRun run)
    {
        var match = RevisionLine().Match(run.Out);
        Assert.That(match.Success, Is.True, $"a revision line in: {run.Out}{run.Error}");
        return long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    private static string[] Columns(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    private async Task<Dictionary<string, Mvccpb.KeyValue>> AppKeysAsync()
    {
        var reply = await _etcd.Connection.Client.GetAsync(
            new RangeRequest { Key = ByteString.CopyFromUtf8(AppsPrefix), RangeEnd = ByteString.CopyFromUtf8(EtcdLayout.RangeEnd(AppsPrefix)) },
            null,
            _etcd.Connection.RequestDeadline);
        return reply.Kvs.ToDictionary(static kv => kv.Key.ToStringUtf8());
    }

    /// <summary>Writes a node's report on a lease of its own, as a node does; returns the lease.</summary>
    private async Task<long> WriteNodeAsync(string id, long applied, bool ready = true, Dictionary<string, string>? errors = null)
    {
        var client = _etcd.Connection.Client;
        var lease = await client.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }, null, _etcd.Connection.RequestDeadline);
        var report = new NodeReport(id, applied, ready, 7, "0123456789abcdef", 2, errors ?? new Dictionary<string, string>(), DateTimeOffset.UtcNow);
        await client.PutAsync(
            new PutRequest { Key = ByteString.CopyFromUtf8(EtcdLayout.NodeKey(_prefix, id)), Value = ByteString.CopyFromUtf8(report.ToJson()), Lease = lease.ID },
            null,
            _etcd.Connection.RequestDeadline);
        return lease.ID;
    }

    [GeneratedRegex(@"^revision (\d+)$", RegexOptions.Multiline)]
    private static partial Regex RevisionLine();
}

using System.Net;
using FProxy.Etcd;
using FProxy.Tests.Infrastructure;
using static FProxy.Tests.Etcd.EtcdApps;

namespace FProxy.Tests.Etcd;

[TestFixture]
[Category("Etcd")]
internal sealed class EtcdConfigSubscriberTests
{
    private EtcdServer _etcd = null!;

    [OneTimeSetUp]
    public async Task StartEtcd() => _etcd = await EtcdServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopEtcd() => await _etcd.DisposeAsync();

    /// <summary>Each test has a prefix of its own on the shared server.</summary>
    private static string NewPrefix() => "/t" + Guid.NewGuid().ToString("N")[..8];

    [Test]
    public async Task Reads_every_app_then_applies_each_transaction_as_one_snapshot()
    {
        var prefix = NewPrefix();
        await _etcd.PutAsync(Key("a", prefix), Json("a", 7001));
        await _etcd.PutAsync(Key("b", prefix), Json("b", 7002));
        await using var run = new SourceRun(_etcd.Options(prefix));
        await run.WaitForAppsAsync("the two stored apps", "a", "b");
        Assert.That(run.Snapshots, Has.Count.EqualTo(1), "one snapshot for the first read");

        var revision = await _etcd.TransactAsync(
            [new(Key("c", prefix), Json("c", 7003)), new(Key("d", prefix), Json("d", 7004)), new(Key("a", prefix), Json("a", 7011))],
            deletes: [Key("b", prefix)]);
        await run.WaitForAppsAsync("the transaction's apps", "a", "c", "d");
        await run.WaitForAsync(() => run.Source.AppliedRevision == revision, "the transaction's revision applied");
        Assert.Multiple(() =>
        {
            Assert.That(run.Snapshots, Has.Count.EqualTo(2), "the whole transaction is one snapshot");
            Assert.That(run.Apps["a"], Is.EqualTo(new[] { 7011 }));
            Assert.That(run.Source.Connected, Is.True);
            Assert.That(run.Source.GetSourceStatus(), Has.Property("Source").EqualTo("etcd").And.Property("Revision").EqualTo(revision));
        });
    }

    [Test]
    public async Task A_bad_value_rejects_that_app_only_and_its_last_good_version_keeps_running()
    {
        var prefix = NewPrefix();
        await _etcd.PutAsync(Key("good", prefix), Json("good", 7101));
        await _etcd.PutAsync(Key("web", prefix), Json("web", 7102));
        await using var run = new SourceRun(_etcd.Options(prefix));
        await run.WaitForAppsAsync("both apps", "good", "web");

        var cases = new[]
        {
            ("{\"Name\":\"web\",\"Ports\":[7102", "invalid JSON"),
            ("{\"Name\":\"web\",\"Ports\":[7102],\"Targets\":[\"127.0.0.1:9\"],\"Colour\":1}", "\"Colour\""),
            ("{\"Name\":\"web\",\"Ports\":[70000],\"Targets\":[\"127.0.0.1:9\"]}", "70000"),
            (Json("other", 7102), "differs from the app's \"Name\""),
        };
        foreach (var (value, expected) in cases)
        {
            var before = run.Feedback.Rejections.Count;
            var revision = await _etcd.PutAsync(Key("web", prefix), value);
            await run.WaitForAsync(() => run.Source.AppliedRevision == revision, $"revision {revision} ({expected}) taken");
            var rejection = run.Feedback.Rejections.Skip(before).Single();
            Assert.Multiple(() =>
            {
                Assert.That(rejection.Part, Is.EqualTo(Key("web", prefix)), "the rejection names the key");
                Assert.That(string.Join(" ", rejection.Errors), Does.Contain(expected));
                Assert.That(run.Apps["web"], Is.EqualTo(new[] { 7102 }), "the last good version keeps running");
                Assert.That(run.Apps, Does.ContainKey("good"));
                Assert.That(run.Source.Errors["web"], Does.Contain(expected).And.Contain("last good version keeps running"));
            });
        }

        // A new app that is bad from the start is not served; the others are untouched.
        await _etcd.PutAsync(Key("new", prefix), "{\"Name\":\"new\",\"Ports\":[7103]}");
        await run.WaitForAsync(() => run.Source.Errors.ContainsKey("new"), "the new app rejected");
        Assert.That(run.Source.Errors["new"], Does.Contain("not served"));

        // Fixed: it applies, and its error is gone.
        await _etcd.PutAsync(Key("web", prefix), Json("web", 7104));
        await run.WaitForAsync(() => run.Apps.TryGetValue("web", out var ports) && ports[0] == 7104, "the fixed version");
        Assert.That(run.Source.Errors, Does.Not.ContainKey("web"));
        Assert.That(run.Logs.Count(1608), Is.EqualTo(1), "one line saying the key applies again");
    }

    [Test]
    public async Task Of_two_apps_claiming_one_port_the_key_created_first_keeps_it()
    {
        var prefix = NewPrefix();
        await _etcd.PutAsync(Key("first", prefix), Json("first", 7201));
        await _etcd.PutAsync(Key("second", prefix), Json("second", 7202));
        await using var run = new SourceRun(_etcd.Options(prefix));
        await run.WaitForAppsAsync("both apps", "first", "second");

        // The later key claims the earlier one's port: rejected, its last good version runs on.
        var revision = await _etcd.PutAsync(Key("second", prefix), Json("second", 7201, 7203));
        await run.WaitForAsync(() => run.Source.AppliedRevision == revision, "the clash taken");
        Assert.That(run.Apps["second"], Is.EqualTo(new[] { 7202 }));
        Assert.That(run.Source.Errors["second"], Does.Contain("port 7201 is already used by app \"first\""));

        // The earlier key changes (its create revision stays): it keeps the port even when the
        // later one had it first in time of writing.
        await _etcd.PutAsync(Key("first", prefix), Json("first", 7201, 7204));
        await run.WaitForAsync(() => run.Apps["first"].Length == 2, "first's new version");
        Assert.That(run.Apps["second"], Is.EqualTo(new[] { 7202 }));

        // The winner gives the port up: the other app takes it.
        await _etcd.PutAsync(Key("first", prefix), Json("first", 7204));
        await run.WaitForAsync(() => run.Apps["second"].Contains(7201), "second takes port 7201");
        Assert.That(run.Source.Errors, Is.Empty);

        // A third key claims a port of a second one and is not served at all; when the owner is deleted it is.
        await _etcd.PutAsync(Key("third", prefix), Json("third", 7204));
        await run.WaitForAsync(() => run.Source.Errors.ContainsKey("third"), "third rejected");
        Assert.That(run.Apps, Does.Not.ContainKey("third"));
        await _etcd.DeleteAsync(Key("first", prefix));
        await run.WaitForAppsAsync("third serves once first is deleted", "second", "third");
    }

    [Test]
    public async Task A_compaction_past_the_watch_reads_every_app_again()
    {
        var prefix = NewPrefix();
        await _etcd.PutAsync(Key("a", prefix), Json("a", 7301));
        await using var relay = new TcpRelay(EtcdEndPoint());
        var options = _etcd.Options(prefix);
        options.Endpoints = [new Uri(relay.Url)];
        await using var run = new SourceRun(options);
        await run.WaitForAppsAsync("the stored app", "a");

        // Cut off: changes are made and the history they are in is compacted.
        relay.Cut();
        await run.WaitForAsync(() => !run.Source.Connected, "the lost connection noticed");
        await _etcd.PutAsync(Key("b", prefix), Json("b", 7302));
        await _etcd.DeleteAsync(Key("a", prefix));
        var revision = await _etcd.PutAsync(Key("c", prefix), Json("c", 7303));
        await _etcd.CompactAsync(revision);
        relay.Restore();

        await run.WaitForAppsAsync("what the store holds after the compaction", "b", "c");
        Assert.Multiple(() =>
        {
            Assert.That(run.Logs.Count(1604), Is.EqualTo(1), "the compaction is logged");
            Assert.That(run.Logs.Count(1601), Is.EqualTo(1), "one warning for the lost connection");
            Assert.That(run.Logs.Count(1602), Is.EqualTo(1), "one line when it is back");
            Assert.That(run.Source.Connected, Is.True);
        });
    }

    [Test]
    public async Task A_silent_partition_is_noticed_by_keepalive_pings_and_the_watch_resumes_from_where_it_was()
    {
        var prefix = NewPrefix();
        await _etcd.PutAsync(Key("a", prefix), Json("a", 7401));
        await using var relay = new TcpRelay(EtcdEndPoint());

        // The defaults: pings after 3 s of quiet, 4 s to answer.
        var options = new EtcdOptions { Endpoints = [new Uri(relay.Url)], Prefix = prefix };
        await using var run = new SourceRun(options);
        await run.WaitForAppsAsync("the stored app", "a");

        await run.WaitForAsync(() => run.Source.Connected, "the watch running");
        var lostBefore = run.Logs.Count(1601);
        var silenced = DateTime.UtcNow;
        relay.Silence();
        await run.WaitForAsync(() => run.Logs.Count(1601) > lostBefore, "the partition noticed as a lost connection", seconds: 15);
        TestContext.Progress.WriteLine($"silent partition noticed after {(DateTime.UtcNow - silenced).TotalSeconds:0.0} s");
        Assert.That(run.Source.Connected, Is.False);

        await _etcd.PutAsync(Key("b", prefix), Json("b", 7402));
        relay.Restore();
        await run.WaitForAppsAsync("the change made during the partition", "a", "b");
        Assert.That(run.Logs.Count(1600), Is.EqualTo(1), "resumed the watch, no second full read");
    }

    [Test]
    public async Task Fails_over_to_the_next_endpoint()
    {
        var prefix = NewPrefix();
        await _etcd.PutAsync(Key("a", prefix), Json("a", 7501));
        var dead = TestPorts.Take(1)[0];
        var options = _etcd.Options(prefix);
        options.Endpoints = [new Uri($"http://127.0.0.1:{dead}"), new Uri(_etcd.Endpoint)];
        await using var run = new SourceRun(options);
        await run.WaitForAppsAsync("the app, through the second endpoint", "a");
        Assert.That(run.Connection.Endpoint, Is.EqualTo(new Uri(_etcd.Endpoint)));
    }

    [Test]
    public async Task Keeps_the_applied_config_on_disk_and_serves_it_at_the_next_start_while_etcd_is_away()
    {
        var prefix = NewPrefix();
        var state = Directory.CreateTempSubdirectory("fproxy-state-").FullName;
        try
        {
            await _etcd.PutAsync(Key("a", prefix), Json("a", 7601));
            var revision = await _etcd.PutAsync(Key("b", prefix), Json("b", 7602));
            var options = _etcd.Options(prefix);
            options.StateDirectory = state;
            await using (var run = new SourceRun(options))
            {
                await run.WaitForAsync(() => File.Exists(Path.Combine(state, "last-good.json")), "the copy written");
            }

            var copy = await File.ReadAllTextAsync(Path.Combine(state, "last-good.json"));
            Assert.That(FProxy.Configuration.ConfigParser.Parse(copy).Apps.Select(static a => a.Name), Is.EqualTo(new[] { "a", "b" }), "a valid config file");
            Assert.That(Directory.GetFiles(state), Has.Length.EqualTo(1), "no temp file left");

            // etcd away: the copy is served at once, and is the node's applied revision.
            await using var relay = new TcpRelay(EtcdEndPoint());
            relay.Cut();
            options.Endpoints = [new Uri(relay.Url)];
            await using var restarted = new SourceRun(options);
            await restarted.WaitForAppsAsync("the copy", "a", "b");
            Assert.That(restarted.Source.AppliedRevision, Is.EqualTo(revision));
            Assert.That(restarted.Logs.Count(1605), Is.EqualTo(1));

            // etcd back, with a change: converges.
            await _etcd.DeleteAsync(Key("a", prefix));
            relay.Restore();
            await restarted.WaitForAppsAsync("etcd's content", "b");
            await restarted.WaitForAsync(() => restarted.Source.Connected, "connected");
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Test]
    public async Task With_no_copy_and_no_etcd_it_waits_and_warns_at_most_every_10_s()
    {
        var dead = TestPorts.Take(1)[0];
        var options = new EtcdOptions { Endpoints = [new Uri($"http://127.0.0.1:{dead}")], Prefix = NewPrefix(), RequestTimeout = TimeSpan.FromSeconds(1) };
        await using var run = new SourceRun(options);
        await run.WaitForAsync(() => run.Logs.Count(1603) >= 1, "the first warning");
        var first = DateTime.UtcNow;
        await run.WaitForAsync(() => run.Logs.Count(1603) >= 2, "the second warning", seconds: 20);
        var between = DateTime.UtcNow - first;
        Assert.That(between, Is.GreaterThan(TimeSpan.FromSeconds(9.5)), "not more often than every 10 s (backoff retries in between)");
        Assert.That(run.Snapshots, Is.Empty, "nothing to serve");
        Assert.That(run.Source.Connected, Is.False);
    }

    [Test]
    public async Task An_etcd_restored_with_lower_revisions_is_read_again_not_waited_on()
    {
        var prefix = NewPrefix();
        for (var i = 0; i < 20; i++)
        {
            await _etcd.PutAsync(Key("a", prefix), Json("a", 7701 + i));
        }

        await using var relay = new TcpRelay(EtcdEndPoint());
        var options = _etcd.Options(prefix);
        options.Endpoints = [new Uri(relay.Url)];
        await using var run = new SourceRun(options);
        await run.WaitForAsync(() => run.Apps.TryGetValue("a", out var p) && p[0] == 7720, "the last version");
        await run.WaitForAsync(() => run.Source.Connected, "watching");

        // The same address now leads to a store rebuilt from scratch: its revisions are far behind.
        await using var rebuilt = await EtcdServer.StartAsync();
        await rebuilt.PutAsync(Key("b", prefix), Json("b", 7799));
        relay.Retarget(IPEndPoint.Parse(new Uri(rebuilt.Endpoint).Authority));
        relay.Cut();
        relay.Restore();
        await run.WaitForAppsAsync("the rebuilt store's apps", "b");
        Assert.That(run.Logs.Count(1613), Is.EqualTo(1));
    }

    private IPEndPoint EtcdEndPoint() => IPEndPoint.Parse(new Uri(_etcd.Endpoint).Authority);
}

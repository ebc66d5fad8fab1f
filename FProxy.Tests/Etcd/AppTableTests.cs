using FProxy.Configuration;
using FProxy.Etcd.Source;
using static FProxy.Tests.Etcd.EtcdApps;

namespace FProxy.Tests.Etcd;

/// <summary>
/// The rule every node applies to the keys under <c>apps/</c>, without etcd: each key parsed on
/// its own, the last served version of a key kept when it turns bad, and of two keys claiming one
/// port or one name the one created first (lower CreateRevision) keeps it.
/// </summary>
internal sealed class AppTableTests
{
    private const string Prefix = "/p";

    private static string K(string name) => Key(name, Prefix);

    private static AppTable NewTable(IReadOnlyDictionary<string, AppVersion>? seeded = null) => new(Prefix, ConfigSchema.Default, seeded);

    private static string[] Served(TableSnapshot snapshot) => [.. snapshot.Config.Apps.Select(static a => a.Name)];

    private static int[] PortsOf(TableSnapshot snapshot, string name) => [.. snapshot.Config.Apps.Single(a => a.Name == name).Ports];

    [Test]
    public void Build_ValidKeys_ServesEveryAppOrderedByCreateRevision()
    {
        var table = NewTable();
        table.Replace(
        [
            (K("a"), Json("a", 7001), 30),
            (K("b"), Json("b", 7002), 10),
            (K("c"), Json("c", 7003), 20),
        ]);

        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "b", "c", "a" }), "created first comes first, whatever the key order or last write");
            Assert.That(snapshot.Errors, Is.Empty);
            Assert.That(snapshot.Apps.Select(static a => a.Json), Is.EqualTo(new[] { Json("b", 7002), Json("c", 7003), Json("a", 7001) }), "the JSON as stored, for the copy on disk");
            Assert.That(table.Count, Is.EqualTo(3));
        });
    }

    [Test]
    public void Build_KeysCreatedInOneTransaction_OrderedByKey()
    {
        var table = NewTable();
        table.Replace([(K("b"), Json("b", 7002), 5), (K("a"), Json("a", 7001), 5)]);

        Assert.That(Served(table.Build()), Is.EqualTo(new[] { "a", "b" }));
    }

    [TestCase("{\"Name\":\"web\",\"Ports\":[7102", "invalid JSON", TestName = "Build_BadJson_RejectsThatKeyAlone")]
    [TestCase("{\"Name\":\"web\",\"Ports\":[7102],\"Targets\":[\"127.0.0.1:9\"],\"Colour\":1}", "\"Colour\"", TestName = "Build_UnknownField_RejectsThatKeyAlone")]
    [TestCase("{\"Name\":\"web\",\"Ports\":[70000],\"Targets\":[\"127.0.0.1:9\"]}", "70000", TestName = "Build_PortOutOfRange_RejectsThatKeyAlone")]
    [TestCase("{\"Name\":\"web\",\"Ports\":[7102]}", "Targets", TestName = "Build_MissingTargets_RejectsThatKeyAlone")]
    [TestCase("{\"Name\":\"other\",\"Ports\":[7102],\"Targets\":[\"127.0.0.1:9\"]}", "the key's last segment \"web\" differs from the app's \"Name\" \"other\"", TestName = "Build_NameDiffersFromKey_RejectsThatKeyAlone")]
    public void Build_BadValue_RejectsThatKeyAloneWithTheReason(string value, string expected)
    {
        var table = NewTable();
        table.Replace([(K("good"), Json("good", 7101), 1), (K("web"), value, 2)]);

        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "good" }), "the good key is served, the bad one is not");
            Assert.That(snapshot.Errors.Keys, Is.EqualTo(new[] { K("web") }));
            var errors = snapshot.Errors[K("web")];
            Assert.That(errors.App, Is.EqualTo("web"));
            Assert.That(string.Join(" ", errors.Problems), Does.Contain(expected));
            Assert.That(errors.Serving, Is.False);
            Assert.That(errors.Message, Does.EndWith("(not served)"));
        });
    }

    [Test]
    public void Build_NameDiffersOnlyInCase_Accepted()
    {
        var table = NewTable();
        table.Replace([(K("web"), Json("Web", 7001), 1)]);

        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "Web" }));
            Assert.That(snapshot.Errors, Is.Empty);
        });
    }

    [TestCase("/p/apps/team/web", "web")]
    [TestCase("/p/apps/web/", "")]
    [TestCase("/p/apps/", "")]
    public void Build_KeyNotOneSegmentAfterApps_RejectedAlone(string key, string name)
    {
        var table = NewTable();
        table.Replace([(K("good"), Json("good", 7101), 1), (key, Json("web", 7102), 2)]);

        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "good" }));
            Assert.That(snapshot.Errors.Keys, Is.EqualTo(new[] { key }));
            Assert.That(snapshot.Errors[key].App, Is.EqualTo(name));
            Assert.That(snapshot.Errors[key].Message, Is.EqualTo("an app's key is /p/apps/<name>, one segment after apps/ (not served)"));
        });
    }

    [Test]
    public void Build_KeyTurnsBad_ItsLastServedVersionKeepsRunning()
    {
        var table = NewTable();
        table.Replace([(K("web"), Json("web", 7001), 1), (K("other"), Json("other", 7002), 2)]);
        table.Build();

        table.Put(K("web"), "{\"Name\":\"web\"", 1);
        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "web", "other" }));
            Assert.That(PortsOf(snapshot, "web"), Is.EqualTo(new[] { 7001 }));
            Assert.That(snapshot.Apps[0].Json, Is.EqualTo(Json("web", 7001)), "the copy on disk keeps the good JSON");
            Assert.That(snapshot.Errors[K("web")].Serving, Is.True);
            Assert.That(snapshot.Errors[K("web")].Message, Does.Contain("invalid JSON").And.EndWith("(its last good version keeps running)"));
        });

        // Fixed: the new version is served and the error is gone.
        table.Put(K("web"), Json("web", 7003), 1);
        var fixedSnapshot = table.Build();
        Assert.Multiple(() =>
        {
            Assert.That(PortsOf(fixedSnapshot, "web"), Is.EqualTo(new[] { 7003 }));
            Assert.That(fixedSnapshot.Errors, Is.Empty);
        });
    }

    [Test]
    public void Build_VersionNeverServed_IsNotTheFallback()
    {
        var table = NewTable();
        table.Replace([(K("web"), Json("web", 7001), 1)]);
        table.Build();

        // A good version and then a bad one arrive before the next snapshot: the fallback is the one served.
        table.Put(K("web"), Json("web", 7002), 1);
        table.Put(K("web"), "[]", 1);

        Assert.That(PortsOf(table.Build(), "web"), Is.EqualTo(new[] { 7001 }));
    }

    [Test]
    public void Replace_KeyBadAtTheReRead_KeepsItsLastServedVersion()
    {
        var table = NewTable();
        table.Replace([(K("web"), Json("web", 7001), 1)]);
        table.Build();

        // A re-read (after a reconnect or a compaction) finds the key bad.
        table.Replace([(K("web"), "{}", 1)]);
        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(PortsOf(snapshot, "web"), Is.EqualTo(new[] { 7001 }));
            Assert.That(snapshot.Errors[K("web")].Serving, Is.True);
        });
    }

    [Test]
    public void Build_NewKeyBadFromTheStart_NotServed()
    {
        var table = NewTable();
        table.Replace([(K("a"), Json("a", 7001), 1)]);
        table.Build();

        table.Put(K("new"), "{\"Name\":\"new\",\"Ports\":[7002]}", 2);
        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "a" }));
            Assert.That(snapshot.Errors[K("new")].Serving, Is.False);
            Assert.That(snapshot.Errors[K("new")].Message, Does.EndWith("(not served)"));
        });
    }

    [Test]
    public void Delete_Key_NoLongerServedAndItsErrorGone()
    {
        var table = NewTable();
        table.Replace([(K("a"), Json("a", 7001), 1), (K("bad"), "x", 2)]);
        table.Build();

        table.Delete(K("a"));
        table.Delete(K("bad"));
        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(snapshot.Config.Apps, Is.Empty);
            Assert.That(snapshot.Errors, Is.Empty);
            Assert.That(table.Count, Is.Zero);
        });
    }

    [TestCase(false, TestName = "Build_PortClash_KeyCreatedFirstKeepsThePort")]
    [TestCase(true, TestName = "Build_PortClashReadInReverseOrder_KeyCreatedFirstKeepsThePort")]
    public void Build_PortClash_KeyCreatedFirstKeepsThePort(bool reverse)
    {
        // "z" sorts after "a" and was written last, but was created first.
        (string, string, long)[] keys = [(K("z"), Json("z", 7001, 7002), 5), (K("a"), Json("a", 7003, 7001), 9)];
        var table = NewTable();
        table.Replace(reverse ? keys.Reverse() : keys);

        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "z" }));
            Assert.That(snapshot.Errors.Keys, Is.EqualTo(new[] { K("a") }));
            Assert.That(snapshot.Errors[K("a")].Message, Is.EqualTo(
                "port 7001 is already used by app \"z\" (key /p/apps/z, created first, at revision 5; key /p/apps/a was created at revision 9) (not served)"));
        });
    }

    [Test]
    public void Build_PortClashOfKeysCreatedInOneTransaction_LowerKeyKeepsThePort()
    {
        var table = NewTable();
        table.Replace([(K("b"), Json("b", 7001), 5), (K("a"), Json("a", 7001), 5)]);

        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "a" }));
            Assert.That(snapshot.Errors.Keys, Is.EqualTo(new[] { K("b") }));
        });
    }

    [Test]
    public void Build_LaterKeyClaimsAPort_KeepsItsLastServedVersion()
    {
        var table = NewTable();
        table.Replace([(K("first"), Json("first", 7001), 1), (K("second"), Json("second", 7002), 2)]);
        table.Build();

        table.Put(K("second"), Json("second", 7001, 7003), 2);
        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(PortsOf(snapshot, "second"), Is.EqualTo(new[] { 7002 }));
            Assert.That(snapshot.Errors[K("second")].Serving, Is.True);
            Assert.That(snapshot.Errors[K("second")].Message, Does.StartWith("port 7001 is already used by app \"first\""));
        });
    }

    [Test]
    public void Build_EarlierKeyTakesAPortOfALaterOne_TheEarlierWins()
    {
        var table = NewTable();
        table.Replace([(K("first"), Json("first", 7001), 1), (K("second"), Json("second", 7002), 2)]);
        table.Build();

        // The earlier key is rewritten (its create revision stays) to claim the later key's port.
        table.Put(K("first"), Json("first", 7001, 7002), 1);
        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(PortsOf(snapshot, "first"), Is.EqualTo(new[] { 7001, 7002 }));
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "first" }), "second's only version clashes too: not served");
            Assert.That(snapshot.Errors[K("second")].Serving, Is.False);
        });
    }

    [Test]
    public void Build_WinnerDeleted_TheOtherTakesThePort()
    {
        var table = NewTable();
        table.Replace([(K("first"), Json("first", 7001), 1), (K("second"), Json("second", 7001), 2)]);
        Assert.That(Served(table.Build()), Is.EqualTo(new[] { "first" }));

        table.Delete(K("first"));
        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "second" }));
            Assert.That(snapshot.Errors, Is.Empty);
        });
    }

    [Test]
    public void Build_WinnerGivesThePortUp_TheOtherTakesIt()
    {
        var table = NewTable();
        table.Replace([(K("first"), Json("first", 7001), 1), (K("second"), Json("second", 7001, 7002), 2)]);
        Assert.That(Served(table.Build()), Is.EqualTo(new[] { "first" }));

        table.Put(K("first"), Json("first", 7003), 1);
        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "first", "second" }));
            Assert.That(PortsOf(snapshot, "second"), Is.EqualTo(new[] { 7001, 7002 }));
            Assert.That(snapshot.Errors, Is.Empty);
        });
    }

    [TestCase(false)]
    [TestCase(true)]
    public void Build_NameClashDifferingInCase_KeyCreatedFirstKeepsTheName(bool reverse)
    {
        // Two keys whose names differ only in case: both are valid alone, one name at a time.
        (string, string, long)[] keys = [(K("Web"), Json("Web", 7002), 3), (K("web"), Json("web", 7001), 4)];
        var table = NewTable();
        table.Replace(reverse ? keys.Reverse() : keys);

        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "Web" }));
            Assert.That(snapshot.Errors.Keys, Is.EqualTo(new[] { K("web") }));
            Assert.That(snapshot.Errors[K("web")].Message, Is.EqualTo(
                "name \"web\" is already used by key /p/apps/Web (created first, at revision 3) (not served)"));
        });

        table.Delete(K("Web"));
        Assert.That(Served(table.Build()), Is.EqualTo(new[] { "web" }), "the name is free once the winner is deleted");
    }

    [Test]
    public void Build_SeededVersion_ServedForAKeyBadAtTheFirstRead()
    {
        var seed = new AppVersion(ConfigParser.ParseApp(Json("web", 7001)), Json("web", 7001));
        var table = NewTable(new Dictionary<string, AppVersion>(StringComparer.OrdinalIgnoreCase) { ["WEB"] = seed });
        table.Replace([(K("web"), "{\"Name\":\"web\"}", 1)]);

        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "web" }));
            Assert.That(snapshot.Apps.Single(), Is.SameAs(seed));
            Assert.That(snapshot.Errors[K("web")].Serving, Is.True);
        });
    }

    [Test]
    public void Build_SeededVersion_NotServedWhenTheKeyIsValidOrGone()
    {
        var seeded = new Dictionary<string, AppVersion>(StringComparer.OrdinalIgnoreCase)
        {
            ["web"] = new(ConfigParser.ParseApp(Json("web", 7001)), Json("web", 7001)),
            ["gone"] = new(ConfigParser.ParseApp(Json("gone", 7009)), Json("gone", 7009)),
        };
        var table = NewTable(seeded);
        table.Replace([(K("web"), Json("web", 7002), 1)]);

        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "web" }), "a seeded app with no key is not served");
            Assert.That(PortsOf(snapshot, "web"), Is.EqualTo(new[] { 7002 }), "etcd's valid version wins over the copy");
        });
    }

    [Test]
    public void Build_SeededVersionThatClashes_NotServed()
    {
        var seeded = new Dictionary<string, AppVersion>(StringComparer.OrdinalIgnoreCase)
        {
            ["web"] = new(ConfigParser.ParseApp(Json("web", 7001)), Json("web", 7001)),
        };
        var table = NewTable(seeded);

        // web is bad now, and a key created before it has taken its old port.
        table.Replace([(K("api"), Json("api", 7001), 1), (K("web"), "{}", 2)]);
        var snapshot = table.Build();

        Assert.Multiple(() =>
        {
            Assert.That(Served(snapshot), Is.EqualTo(new[] { "api" }));
            Assert.That(snapshot.Errors[K("web")].Serving, Is.False);
            Assert.That(snapshot.Errors[K("web")].Problems, Has.Some.StartsWith("port 7001 is already used by app \"api\""));
        });
    }
}

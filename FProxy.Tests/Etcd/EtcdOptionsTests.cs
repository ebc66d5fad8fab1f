using FProxy.Etcd;

namespace FProxy.Tests.Etcd;

/// <summary>EtcdOptions' parsing, validation and defaults, and EtcdLayout's keys: no etcd needed.</summary>
internal sealed class EtcdOptionsTests
{
    [Test]
    public void ParseEndpoints_ListWithSpaces_EveryUrlInOrder()
    {
        var endpoints = EtcdOptions.ParseEndpoints(" http://127.0.0.1:2379 ,http://[::1]:22379/, http://etcd-2.example:2379,");

        Assert.That(endpoints.Select(static e => e.ToString()), Is.EqualTo(new[]
        {
            "http://127.0.0.1:2379/",
            "http://[::1]:22379/",
            "http://etcd-2.example:2379/",
        }));
    }

    [Test]
    public void ParseEndpoints_Https_Accepted() =>
        Assert.That(EtcdOptions.ParseEndpoints("https://10.0.0.1:2379,https://10.0.0.2:2379").Select(static e => e.Scheme), Is.All.EqualTo("https"));

    [TestCase("127.0.0.1:2379", "\"127.0.0.1:2379\" is not an http:// or https:// URL")]
    [TestCase("localhost:2379", "\"localhost:2379\" is not an http:// or https:// URL")]
    [TestCase("ftp://127.0.0.1:2379", "\"ftp://127.0.0.1:2379\" is not an http:// or https:// URL")]
    [TestCase("unix:///run/etcd.sock", "\"unix:///run/etcd.sock\" is not an http:// or https:// URL")]
    [TestCase("http://127.0.0.1:2379/v3", "\"http://127.0.0.1:2379/v3\": an etcd endpoint has no path, query or fragment")]
    [TestCase("http://127.0.0.1:2379?x=1", "\"http://127.0.0.1:2379?x=1\": an etcd endpoint has no path, query or fragment")]
    [TestCase("http://127.0.0.1:2379#x", "\"http://127.0.0.1:2379#x\": an etcd endpoint has no path, query or fragment")]
    [TestCase("http://root:pw@127.0.0.1:2379", "put the user and password in their own settings")]
    [TestCase("http://127.0.0.1:2379,etcd:2379", "\"etcd:2379\" is not an http:// or https:// URL")]
    [TestCase("", "no endpoint given")]
    [TestCase(" , ,", "no endpoint given")]
    [TestCase("http://127.0.0.1:2379,https://127.0.0.1:22379", "endpoints mix http:// and https://")]
    public void ParseEndpoints_Invalid_FormatExceptionNamingTheProblem(string text, string message)
    {
        var e = Assert.Throws<FormatException>(() => EtcdOptions.ParseEndpoints(text));
        Assert.That(e!.Message, Does.Contain(message));
    }

    [Test]
    public void Validate_EndpointsOnly_NoProblems() =>
        Assert.That(Valid().Validate(), Is.Empty);

    [Test]
    public void Validate_Defaults_PrefixFproxyAndHostNameAsNodeId()
    {
        var options = Valid();

        Assert.Multiple(() =>
        {
            Assert.That(options.Prefix, Is.EqualTo("/fproxy"));
            Assert.That(options.NormalizedPrefix, Is.EqualTo("/fproxy"));
            Assert.That(options.NodeId, Is.EqualTo(Environment.MachineName));
            Assert.That(options.StateDirectory, Is.Null);
        });
    }

    [TestCase("/")]
    [TestCase("")]
    [TestCase("//")]
    public void Validate_RootPrefix_Rejected(string prefix) =>
        Assert.That(Valid(o => o.Prefix = prefix).Validate(), Is.EqualTo(new[] { "Prefix: must name a key prefix such as /fproxy, not the root" }));

    [Test]
    public void Validate_PrefixWithWhitespace_Rejected() =>
        Assert.That(Valid(o => o.Prefix = "/my apps").Validate(), Is.EqualTo(new[] { "Prefix: \"/my apps\" contains whitespace" }));

    [TestCase("a/b")]
    [TestCase("")]
    [TestCase(" ")]
    [TestCase("node 1")]
    public void Validate_BadNodeId_Rejected(string nodeId) =>
        Assert.That(Valid(o => o.NodeId = nodeId).Validate(), Is.EqualTo(new[] { $"NodeId: \"{nodeId}\" must be a non-empty name without '/' or whitespace" }));

    [TestCase("root", null)]
    [TestCase(null, "secret")]
    public void Validate_UserWithoutPasswordOrTheReverse_Rejected(string? username, string? password) =>
        Assert.That(Valid(o => (o.Username, o.Password) = (username, password)).Validate(), Is.EqualTo(new[] { "Username and Password: give both or neither" }));

    [Test]
    public void Validate_MissingCaFile_Rejected()
    {
        var missing = Path.Combine(Path.GetTempPath(), "fproxy-no-such-ca-" + Guid.NewGuid().ToString("N") + ".pem");
        Assert.That(Valid(o => o.CaFile = missing).Validate(), Is.EqualTo(new[] { $"CaFile: \"{missing}\" does not exist" }));
    }

    [TestCase("not a certificate\n", "holds no PEM certificate")]
    [TestCase("", "holds no PEM certificate")]
    [TestCase("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "cannot be read as PEM certificates")]
    public void Validate_CaFileWithoutACertificate_Rejected(string content, string why)
    {
        var path = Path.GetTempFileName();
        try
        {
            File.WriteAllText(path, content);
            var problems = Valid(o => o.CaFile = path).Validate();
            Assert.That(problems, Has.Count.EqualTo(1));
            Assert.That(problems[0], Does.StartWith($"CaFile: \"{path}\" {why}"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Validate_CaFileWithACertificate_NoProblems()
    {
        var path = Path.GetTempFileName();
        try
        {
            Infrastructure.TestCertificates.WriteSelfSignedPem(path);
            Assert.That(Valid(o => o.CaFile = path).Validate(), Is.Empty);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Validate_NoEndpoints_Rejected() =>
        Assert.That(Valid(o => o.Endpoints = []).Validate(), Is.EqualTo(new[] { "Endpoints: at least one etcd URL is needed" }));

    [Test]
    public void Validate_EndpointNotHttp_Rejected() =>
        Assert.That(Valid(o => o.Endpoints = [new Uri("ftp://127.0.0.1:2379")]).Validate(), Is.EqualTo(new[] { "Endpoints: every URL must be http:// or https://" }));

    [Test]
    public void Validate_TimesOutOfRange_EachRejected()
    {
        var problems = Valid(o =>
        {
            o.KeepAliveInterval = TimeSpan.Zero;
            o.KeepAliveTimeout = TimeSpan.FromSeconds(-1);
            o.MaxBackoff = TimeSpan.Zero;
            o.RequestTimeout = TimeSpan.Zero;
            o.LeaseTtl = TimeSpan.FromSeconds(1);
        }).Validate();

        Assert.That(problems.Select(static p => p[..p.IndexOf(':', StringComparison.Ordinal)]), Is.EqualTo(new[]
        {
            "KeepAliveInterval", "KeepAliveTimeout", "MaxBackoff", "RequestTimeout", "LeaseTtl",
        }));
    }

    [Test]
    public void Validate_SeveralProblems_AllCollected()
    {
        var problems = Valid(o =>
        {
            o.Prefix = "/";
            o.NodeId = "a/b";
            o.Username = "root";
        }).Validate();

        Assert.That(problems.Select(static p => p[..p.IndexOf(':', StringComparison.Ordinal)]), Is.EqualTo(new[] { "Prefix", "NodeId", "Username and Password" }));
    }

    [Test]
    public void DefaultStateDirectory_SystemdList_FirstEntry() =>
        Assert.That(
            EtcdOptions.DefaultStateDirectory(Variables(("STATE_DIRECTORY", "/var/lib/fproxy:/var/lib/other"), ("XDG_STATE_HOME", "/xdg"), ("HOME", "/home/u"))),
            Is.EqualTo("/var/lib/fproxy"));

    [Test]
    public void DefaultStateDirectory_SystemdSingle_ThatOne() =>
        Assert.That(EtcdOptions.DefaultStateDirectory(Variables(("STATE_DIRECTORY", "/var/lib/fproxy"))), Is.EqualTo("/var/lib/fproxy"));

    [TestCase(null)]
    [TestCase("")]
    public void DefaultStateDirectory_NoSystemd_XdgStateHome(string? systemd) =>
        Assert.That(
            EtcdOptions.DefaultStateDirectory(Variables(("STATE_DIRECTORY", systemd), ("XDG_STATE_HOME", "/xdg"), ("HOME", "/home/u"))),
            Is.EqualTo("/xdg/fproxy"));

    [TestCase(null)]
    [TestCase("")]
    public void DefaultStateDirectory_NeitherSystemdNorXdg_HomeLocalState(string? xdg) =>
        Assert.That(
            EtcdOptions.DefaultStateDirectory(Variables(("XDG_STATE_HOME", xdg), ("HOME", "/home/u"))),
            Is.EqualTo("/home/u/.local/state/fproxy"));

    [Test]
    public void DefaultStateDirectory_NoHomeVariable_TheUserProfile() =>
        Assert.That(
            EtcdOptions.DefaultStateDirectory(static _ => null),
            Is.EqualTo(Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state", "fproxy")));

    [TestCase("/fproxy", "/fproxy")]
    [TestCase("fproxy", "/fproxy")]
    [TestCase("fproxy/", "/fproxy")]
    [TestCase("//fproxy//", "/fproxy")]
    [TestCase(" /team/fproxy/ ", "/team/fproxy")]
    public void NormalizePrefix_OneLeadingSlashNoneTrailing(string prefix, string expected)
    {
        Assert.That(EtcdLayout.NormalizePrefix(prefix), Is.EqualTo(expected));
        Assert.That(new EtcdOptions { Prefix = prefix }.NormalizedPrefix, Is.EqualTo(expected));
    }

    [Test]
    public void Layout_Keys_UnderThePrefix()
    {
        Assert.Multiple(() =>
        {
            Assert.That(EtcdLayout.AppsPrefix("/fproxy"), Is.EqualTo("/fproxy/apps/"));
            Assert.That(EtcdLayout.NodesPrefix("/fproxy"), Is.EqualTo("/fproxy/nodes/"));
            Assert.That(EtcdLayout.AppKey("/fproxy", "web"), Is.EqualTo("/fproxy/apps/web"));
            Assert.That(EtcdLayout.NodeKey("/fproxy", "node-1"), Is.EqualTo("/fproxy/nodes/node-1"));
            Assert.That(EtcdLayout.LastSegment("/fproxy/apps/web"), Is.EqualTo("web"));
            Assert.That(EtcdLayout.LastSegment("/fproxy/apps/"), Is.Empty);
        });
    }

    [TestCase("/fproxy/apps/", "/fproxy/apps0")]
    [TestCase("/fproxy/nodes/", "/fproxy/nodes0")]
    [TestCase("a", "b")]
    [TestCase("/p/x", "/p/y")]
    public void RangeEnd_LastCharacterPlusOne(string prefix, string expected) =>
        Assert.That(EtcdLayout.RangeEnd(prefix), Is.EqualTo(expected));

    [Test]
    public void RangeEnd_CoversExactlyTheKeysUnderThePrefix()
    {
        var start = EtcdLayout.AppsPrefix("/fproxy");
        var end = EtcdLayout.RangeEnd(start);
        bool InRange(string key) => string.CompareOrdinal(key, start) >= 0 && string.CompareOrdinal(key, end) < 0;

        Assert.Multiple(() =>
        {
            Assert.That(InRange("/fproxy/apps/web"), Is.True);
            Assert.That(InRange("/fproxy/apps/~zz"), Is.True);
            Assert.That(InRange("/fproxy/apps"), Is.False);
            Assert.That(InRange("/fproxy/apps0"), Is.False);
            Assert.That(InRange("/fproxy/appsx/web"), Is.False);
            Assert.That(InRange("/fproxy/nodes/n1"), Is.False);
        });
    }

    [Test]
    public void RangeEnd_EmptyPrefix_Throws() =>
        Assert.Throws<ArgumentException>(() => EtcdLayout.RangeEnd(string.Empty));

    private static EtcdOptions Valid(Action<EtcdOptions>? change = null)
    {
        var options = new EtcdOptions { Endpoints = [new Uri("http://127.0.0.1:2379")] };
        change?.Invoke(options);
        return options;
    }

    private static Func<string, string?> Variables(params (string Name, string? Value)[] variables)
    {
        var map = variables.ToDictionary(static v => v.Name, static v => v.Value, StringComparer.Ordinal);
        return name => map.GetValueOrDefault(name);
    }
}

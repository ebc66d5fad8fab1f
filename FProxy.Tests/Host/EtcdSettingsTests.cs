using FProxy.Host;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>
/// The host's FPROXY_ETCD_*, FPROXY_NODE_ID and FPROXY_STATE_DIR variables, parsed in process; one
/// run of the real host checks that a bad value exits 2 naming the variable.
/// </summary>
[CancelAfter(30_000)]
public sealed class EtcdSettingsTests
{
    private const string Endpoints = "http://127.0.0.1:2379";

    [Test]
    public void FromEnvironment_EndpointsUnset_NullForTheConfigFile()
    {
        Assert.Multiple(() =>
        {
            Assert.That(EtcdSettings.FromEnvironment(static _ => null), Is.Null);

            // The other etcd variables mean nothing without endpoints.
            Assert.That(EtcdSettings.FromEnvironment(Variables((EtcdSettings.PrefixVariable, "/"), (EtcdSettings.NodeIdVariable, "a/b"))), Is.Null);
            Assert.That(HostSettings.FromEnvironment(static _ => null).Etcd, Is.Null);
        });
    }

    [Test]
    public void FromEnvironment_EndpointsOnly_DefaultsForTheRest()
    {
        var options = EtcdSettings.FromEnvironment(Variables((EtcdSettings.EndpointsVariable, Endpoints), ("HOME", "/home/u")))!;

        Assert.Multiple(() =>
        {
            Assert.That(options.Endpoints, Is.EqualTo(new[] { new Uri(Endpoints) }));
            Assert.That(options.Prefix, Is.EqualTo("/fproxy"));
            Assert.That(options.Username, Is.Null);
            Assert.That(options.Password, Is.Null);
            Assert.That(options.CaFile, Is.Null);
            Assert.That(options.NodeId, Is.EqualTo(Environment.MachineName));
            Assert.That(options.StateDirectory, Is.EqualTo("/home/u/.local/state/fproxy"));
        });
    }

    [Test]
    public void FromEnvironment_Everything_Mapped()
    {
        var ca = Path.GetTempFileName();
        try
        {
            TestCertificates.WriteSelfSignedPem(ca);
            var options = EtcdSettings.FromEnvironment(Variables(
                (EtcdSettings.EndpointsVariable, "https://10.0.0.1:2379, https://10.0.0.2:2379"),
                (EtcdSettings.PrefixVariable, "team/fproxy/"),
                (EtcdSettings.UsernameVariable, "fproxy"),
                (EtcdSettings.PasswordVariable, "secret"),
                (EtcdSettings.CaFileVariable, ca),
                (EtcdSettings.NodeIdVariable, " node-1 "),
                (EtcdSettings.StateDirectoryVariable, "/var/lib/fproxy-state")))!;

            Assert.Multiple(() =>
            {
                Assert.That(options.Endpoints, Is.EqualTo(new[] { new Uri("https://10.0.0.1:2379"), new Uri("https://10.0.0.2:2379") }));
                Assert.That(options.NormalizedPrefix, Is.EqualTo("/team/fproxy"));
                Assert.That(options.Username, Is.EqualTo("fproxy"));
                Assert.That(options.Password, Is.EqualTo("secret"));
                Assert.That(options.CaFile, Is.EqualTo(ca));
                Assert.That(options.NodeId, Is.EqualTo("node-1"));
                Assert.That(options.StateDirectory, Is.EqualTo("/var/lib/fproxy-state"));
            });
            Assert.That(HostSettings.FromEnvironment(Variables((EtcdSettings.EndpointsVariable, Endpoints))).Etcd, Is.Not.Null, "the host reads them");
        }
        finally
        {
            File.Delete(ca);
        }
    }

    [Test]
    public void FromEnvironment_RelativeStateDir_MadeAbsolute() =>
        Assert.That(
            Options((EtcdSettings.StateDirectoryVariable, "state")).StateDirectory,
            Is.EqualTo(Path.GetFullPath("state")));

    [TestCase("/var/lib/fproxy:/var/lib/more", null, "/var/lib/fproxy")]
    [TestCase(null, "/xdg", "/xdg/fproxy")]
    [TestCase(null, null, "/home/u/.local/state/fproxy")]
    public void FromEnvironment_StateDirUnset_DefaultFromTheEnvironment(string? systemd, string? xdg, string expected) =>
        Assert.That(
            Options(("STATE_DIRECTORY", systemd), ("XDG_STATE_HOME", xdg), ("HOME", "/home/u")).StateDirectory,
            Is.EqualTo(expected));

    [Test]
    public void FromEnvironment_StateDirSet_WinsOverTheDefaults() =>
        Assert.That(
            Options((EtcdSettings.StateDirectoryVariable, "/srv/state"), ("STATE_DIRECTORY", "/var/lib/fproxy")).StateDirectory,
            Is.EqualTo("/srv/state"));

    [Test]
    public void FromEnvironment_BlankOptionalValues_Unset()
    {
        var options = Options(
            (EtcdSettings.UsernameVariable, ""),
            (EtcdSettings.PasswordVariable, ""),
            (EtcdSettings.CaFileVariable, " "),
            (EtcdSettings.NodeIdVariable, ""));

        Assert.Multiple(() =>
        {
            Assert.That(options.Username, Is.Null);
            Assert.That(options.Password, Is.Null);
            Assert.That(options.CaFile, Is.Null);
            Assert.That(options.NodeId, Is.EqualTo(Environment.MachineName));
        });
    }

    [TestCase("127.0.0.1:2379", "is not an http:// or https:// URL")]
    [TestCase("ftp://127.0.0.1:2379", "is not an http:// or https:// URL")]
    [TestCase("http://127.0.0.1:2379/v3", "no path, query or fragment")]
    [TestCase("", "no endpoint given")]
    [TestCase("http://127.0.0.1:2379,https://127.0.0.1:2380", "mix http:// and https://")]
    public void FromEnvironment_InvalidEndpoints_ThrowsNamingTheVariable(string value, string why) =>
        AssertInvalid("FPROXY_ETCD_ENDPOINTS: ", why, (EtcdSettings.EndpointsVariable, value));

    [TestCase("/")]
    [TestCase("")]
    public void FromEnvironment_RootPrefix_ThrowsNamingTheVariable(string value) =>
        AssertInvalid("FPROXY_ETCD_PREFIX: ", "not the root", (EtcdSettings.EndpointsVariable, Endpoints), (EtcdSettings.PrefixVariable, value));

    [TestCase("a/b")]
    [TestCase("node 1")]
    public void FromEnvironment_InvalidNodeId_ThrowsNamingTheVariable(string value) =>
        AssertInvalid("FPROXY_NODE_ID: ", $"\"{value}\" must be a non-empty name without '/'", (EtcdSettings.EndpointsVariable, Endpoints), (EtcdSettings.NodeIdVariable, value));

    [Test]
    public void FromEnvironment_MissingCaFile_ThrowsNamingTheVariable()
    {
        var missing = Path.Combine(Path.GetTempPath(), "fproxy-no-such-ca-" + Guid.NewGuid().ToString("N") + ".pem");
        AssertInvalid("FPROXY_ETCD_CA_FILE: ", $"\"{missing}\" does not exist", (EtcdSettings.EndpointsVariable, Endpoints), (EtcdSettings.CaFileVariable, missing));
    }

    [Test]
    public void FromEnvironment_CaFileWithoutACertificate_ThrowsNamingTheVariable()
    {
        var path = Path.GetTempFileName();
        try
        {
            AssertInvalid("FPROXY_ETCD_CA_FILE: ", "holds no PEM certificate", (EtcdSettings.EndpointsVariable, Endpoints), (EtcdSettings.CaFileVariable, path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase("fproxy", null)]
    [TestCase("fproxy", "")]
    [TestCase(null, "secret")]
    [TestCase("", "secret")]
    public void FromEnvironment_UserWithoutPasswordOrTheReverse_ThrowsNamingBothVariables(string? username, string? password) =>
        AssertInvalid(
            "FPROXY_ETCD_USERNAME and FPROXY_ETCD_PASSWORD: ",
            "give both or neither",
            (EtcdSettings.EndpointsVariable, Endpoints),
            (EtcdSettings.UsernameVariable, username),
            (EtcdSettings.PasswordVariable, password));

    [TestCase(false)]
    [TestCase(true)]
    public async Task Host_InvalidEtcdEndpoints_ExitsTwoNamingTheVariable(bool check)
    {
        using var host = HostProcess.Start(null, new Dictionary<string, string?> { [EtcdSettings.EndpointsVariable] = "127.0.0.1:2379" }, check ? ["--check"] : []);

        Assert.That(await host.WaitForExitAsync(TimeSpan.FromSeconds(20)), Is.EqualTo(2), host.Output);
        Assert.Multiple(() =>
        {
            Assert.That(host.ErrorLines, Has.Some.StartsWith("fproxy: FPROXY_ETCD_ENDPOINTS: \"127.0.0.1:2379\" is not an http:// or https:// URL"), host.Output);
            Assert.That(host.Output, Does.Not.Contain("   at "), "no stack trace");
        });
    }

    private static void AssertInvalid(string start, string why, params (string Name, string? Value)[] variables)
    {
        var e = Assert.Throws<ArgumentException>(() => EtcdSettings.FromEnvironment(Variables(variables)));
        Assert.That(e!.Message, Does.StartWith(start).And.Contain(why));

        // The host's settings fail alike (and the host prints the message and exits 2).
        var host = Assert.Throws<ArgumentException>(() => HostSettings.FromEnvironment(Variables(variables)));
        Assert.That(host!.Message, Does.StartWith(start));
    }

    private static FProxy.Etcd.EtcdOptions Options(params (string Name, string? Value)[] variables) =>
        EtcdSettings.FromEnvironment(Variables([(EtcdSettings.EndpointsVariable, Endpoints), .. variables]))!;

    private static Func<string, string?> Variables(params (string Name, string? Value)[] variables)
    {
        var map = variables.ToDictionary(static v => v.Name, static v => v.Value, StringComparer.Ordinal);
        return name => map.GetValueOrDefault(name);
    }
}

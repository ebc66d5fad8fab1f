using FProxy.Etcd;
using FProxy.Tests.Infrastructure;
using static FProxy.Tests.Etcd.EtcdApps;

namespace FProxy.Tests.Etcd;

/// <summary>
/// An etcd that serves TLS only (a certificate from a CA of the test's own, for 127.0.0.1) and has
/// authentication on: the source reaches it with the CA and the user, and with anything less it
/// does not connect, serves nothing and says why.
/// </summary>
[TestFixture]
[Category("Etcd")]
[CancelAfter(60_000)]
internal sealed class EtcdTlsAuthTests
{
    private const string Prefix = "/tls";
    private const string User = "root";
    private const string Password = "secret";

    private TestCertificates _certificates = null!;
    private EtcdServer _etcd = null!;

    [OneTimeSetUp]
    public async Task StartEtcd()
    {
        _certificates = await TestCertificates.CreateAsync();
        _etcd = await EtcdServer.StartAsync(
            ["--cert-file", _certificates.ServerCertificate, "--key-file", _certificates.ServerKey], "https", _certificates.CaFile);
        await _etcd.PutAsync(Key("a", Prefix), Json("a", 7701));
        await _etcd.EtcdctlAsync("user", "add", $"{User}:{Password}", "--interactive=false");
        await _etcd.EtcdctlAsync("auth", "enable");
        _etcd.SignIn(User, Password);
        await _etcd.PutAsync(Key("b", Prefix), Json("b", 7702));
    }

    [OneTimeTearDown]
    public async Task StopEtcd()
    {
        await _etcd.DisposeAsync();
        _certificates.Dispose();
    }

    [Test]
    public async Task With_the_CA_and_the_user_it_reads_the_stored_apps_and_follows_changes()
    {
        var options = _etcd.Options(Prefix);
        Assert.That(options.Endpoints[0].Scheme, Is.EqualTo("https"));
        await using var run = new SourceRun(options);
        await run.WaitForAppsAsync("the stored apps, over TLS, signed in", "a", "b");

        // The watch carries the token too: a change arrives.
        var revision = await _etcd.PutAsync(Key("c", Prefix), Json("c", 7703));
        await run.WaitForAppsAsync("the app written while watching", "a", "b", "c");
        await run.WaitForAsync(() => run.Source.AppliedRevision == revision, "the write's revision applied");
        await _etcd.DeleteAsync(Key("c", Prefix));
        await run.WaitForAppsAsync("the app deleted again", "a", "b");
        Assert.Multiple(() =>
        {
            Assert.That(run.Source.Connected, Is.True);
            Assert.That(run.Logs.Count(1603), Is.Zero, "never waiting");
        });
    }

    [Test]
    public async Task The_check_reads_over_TLS_signed_in()
    {
        var result = await EtcdConfigCheck.RunAsync(_etcd.Options(Prefix));
        Assert.Multiple(() =>
        {
            Assert.That(result.Config.Apps.Select(static a => a.Name), Is.SupersetOf(new[] { "a", "b" }));
            Assert.That(result.Errors, Is.Empty);
        });
    }

    [Test]
    public async Task Without_the_CA_the_server_certificate_is_refused_and_nothing_is_served()
    {
        var options = _etcd.Options(Prefix);
        options.CaFile = null;
        var warning = await WaitingWarningAsync(options);
        Assert.That(warning, Does.Contain("SSL").IgnoreCase.Or.Contain("certificate").IgnoreCase);
    }

    [Test]
    public async Task A_CA_that_did_not_sign_the_server_certificate_is_refused()
    {
        var options = _etcd.Options(Prefix);
        options.CaFile = await _certificates.CreateOtherCaAsync();
        var warning = await WaitingWarningAsync(options);
        Assert.That(warning, Does.Contain("SSL").IgnoreCase.Or.Contain("certificate").IgnoreCase);
    }

    [Test]
    public async Task A_certificate_from_the_CA_for_another_name_is_refused()
    {
        // The certificate is for IP 127.0.0.1; the same server reached as "localhost" does not match it.
        var options = _etcd.Options(Prefix);
        options.Endpoints = [new UriBuilder(_etcd.Endpoint) { Host = "localhost" }.Uri];
        var warning = await WaitingWarningAsync(options);
        Assert.That(warning, Does.Contain("SSL").IgnoreCase.Or.Contain("certificate").IgnoreCase);
    }

    [Test]
    public async Task With_a_wrong_password_it_does_not_connect_and_the_warning_names_the_failure()
    {
        var options = _etcd.Options(Prefix);
        options.Password = "wrong";
        var warning = await WaitingWarningAsync(options);
        Assert.That(warning, Does.Contain("authentication failed"));
    }

    [Test]
    public async Task Without_a_user_the_cluster_refuses_the_read()
    {
        var options = _etcd.Options(Prefix);
        options.Username = null;
        options.Password = null;
        var warning = await WaitingWarningAsync(options);
        Assert.That(warning, Does.Contain("user name is empty"));
    }

    [Test]
    public async Task A_server_certificate_from_an_intermediate_CA_is_trusted_through_the_root()
    {
        using var certificates = await TestCertificates.CreateAsync(intermediate: true);
        await using var etcd = await StartTlsAsync(certificates);
        await etcd.PutAsync(Key("a", Prefix), Json("a", 7711));

        await using var run = new SourceRun(etcd.Options(Prefix));
        await run.WaitForAppsAsync("the app, through the intermediate", "a");
    }

    [Test]
    public async Task A_certificate_from_the_CA_not_meant_for_servers_is_refused()
    {
        // Signed by the trusted CA for 127.0.0.1, but for client authentication only.
        using var certificates = await TestCertificates.CreateAsync(extendedKeyUsage: "clientAuth");
        await using var etcd = await StartTlsAsync(certificates, waitForClient: false);

        var warning = await WaitingWarningAsync(etcd.Options(Prefix));
        Assert.That(warning, Does.Contain("SSL").IgnoreCase.Or.Contain("certificate").IgnoreCase);
    }

    private static Task<EtcdServer> StartTlsAsync(TestCertificates certificates, bool waitForClient = true) =>
        EtcdServer.StartAsync(["--cert-file", certificates.ServerCertificate, "--key-file", certificates.ServerKey], "https", certificates.CaFile, waitForClient);

    /// <summary>
    /// Runs a source that cannot get in: waits for its "waiting for etcd" warning, checks it has
    /// served nothing and is not connected, and returns the warning.
    /// </summary>
    private static async Task<string> WaitingWarningAsync(EtcdOptions options)
    {
        await using var run = new SourceRun(options);
        await run.WaitForAsync(() => run.Logs.Count(1603) >= 1, "the waiting warning");
        var warning = run.Logs.Entries.First(static e => e.Id == 1603).Message;
        Assert.Multiple(() =>
        {
            Assert.That(run.Snapshots, Is.Empty, "nothing to serve");
            Assert.That(run.Source.Connected, Is.False);
            Assert.That(run.Source.AppliedRevision, Is.Zero);
            Assert.That(run.Logs.Count(1600), Is.Zero, "never read the apps");
        });
        TestContext.Progress.WriteLine($"refused: {warning}");
        return warning;
    }
}

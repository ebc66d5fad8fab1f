using System.Net;
using FProxy.Daemon;
using FProxy.Host;
using FProxy.Host.Admin;

namespace FProxy.Tests.Host;

/// <summary>The host's FPROXY_* variables, parsed in process (the end-to-end tests check the exit code).</summary>
public sealed class HostSettingsTests
{
    [Test]
    public void FromEnvironment_NothingSet_AdminOnLoopback9901NoDelayNoAccessLogNoOtlp()
    {
        var settings = HostSettings.FromEnvironment(static _ => null);

        Assert.Multiple(() =>
        {
            Assert.That(settings.Admin, Is.EqualTo(AdminAddress.Default));
            Assert.That(settings.Admin!.Url, Is.EqualTo("http://127.0.0.1:9901"));
            Assert.That(settings.Admin.IsLoopback, Is.True);
            Assert.That(settings.ShutdownDelay, Is.EqualTo(TimeSpan.Zero));
            Assert.That(settings.AccessLogAll, Is.False);
            Assert.That(settings.OtlpEndpoint, Is.Null);
        });
    }

    [TestCase("none")]
    [TestCase(" NONE ")]
    public void FromEnvironment_AdminNone_NoAdmin(string value) =>
        Assert.That(Settings(HostSettings.AdminUrlVariable, value).Admin, Is.Null);

    [TestCase("http://127.0.0.1:9901", "127.0.0.1", 9901, true, "http://127.0.0.1:9901")]
    [TestCase("http://127.0.0.1:9901/", "127.0.0.1", 9901, true, "http://127.0.0.1:9901")]
    [TestCase("HTTP://127.0.0.2:1", "127.0.0.2", 1, true, "http://127.0.0.2:1")]
    [TestCase("http://[::1]:65535", "::1", 65535, true, "http://[::1]:65535")]
    [TestCase("http://localhost:9901", "localhost", 9901, true, "http://localhost:9901")]
    [TestCase("http://0.0.0.0:9901", "0.0.0.0", 9901, false, "http://0.0.0.0:9901")]
    [TestCase("http://[::]:9901", "::", 9901, false, "http://[::]:9901")]
    [TestCase("http://10.1.2.3:9901", "10.1.2.3", 9901, false, "http://10.1.2.3:9901")]
    public void FromEnvironment_ValidAdminUrl_Parsed(string value, string host, int port, bool loopback, string url)
    {
        var admin = HostSettings.FromEnvironment(name => name switch
        {
            HostSettings.AdminUrlVariable => value,
            HostSettings.AdminTokenVariable => Token,
            _ => null,
        }).Admin!;

        Assert.Multiple(() =>
        {
            Assert.That(admin.Host, Is.EqualTo(host));
            Assert.That(admin.Port, Is.EqualTo(port));
            Assert.That(admin.IsLoopback, Is.EqualTo(loopback));
            Assert.That(admin.Url, Is.EqualTo(url));
            Assert.That(admin.Address, host == "localhost" ? Is.Null : Is.EqualTo(IPAddress.Parse(host)));
        });
    }

    [TestCase("", "set but empty")]
    [TestCase("127.0.0.1:9901", "expected http://IP:PORT")]
    [TestCase("https://127.0.0.1:9901", "only http:// is supported")]
    [TestCase("http://127.0.0.1", "a port is required")]
    [TestCase("http://127.0.0.1:0", "from 1 to 65535")]
    [TestCase("http://127.0.0.1:65536", "from 1 to 65535")]
    [TestCase("http://127.0.0.1:99a", "from 1 to 65535")]
    [TestCase("http://127.0.0.1:9901/admin", "no path or query")]
    [TestCase("http://127.0.0.1:9901?x=1", "no path or query")]
    [TestCase("http://user@127.0.0.1:9901", "no user name")]
    [TestCase("http://admin.example:9901", "not a name to resolve")]
    [TestCase("http://127.1:9901", "not a name to resolve")]
    [TestCase("http://::1:9901", "must be in brackets")]
    [TestCase("http://[127.0.0.1]:9901", "not a name to resolve")]
    [TestCase("http://[::1:9901", "expected http://IP:PORT")]
    public void FromEnvironment_InvalidAdminUrl_ThrowsNamingTheVariable(string value, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => Settings(HostSettings.AdminUrlVariable, value));
        Assert.That(e!.Message, Does.StartWith("FPROXY_ADMIN_URL").And.Contain(why));
    }

    [TestCase("0", 0)]
    [TestCase("", 0)]
    [TestCase("250ms", 250)]
    [TestCase("5s", 5_000)]
    [TestCase("1m", 60_000)]
    public void FromEnvironment_ShutdownDelay_Parsed(string value, int milliseconds) =>
        Assert.That(Settings(HostSettings.ShutdownDelayVariable, value).ShutdownDelay, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));

    [TestCase("5")]
    [TestCase("-5s")]
    [TestCase("5 s")]
    [TestCase("soon")]
    public void FromEnvironment_InvalidShutdownDelay_ThrowsNamingTheVariable(string value)
    {
        var e = Assert.Throws<ArgumentException>(() => Settings(HostSettings.ShutdownDelayVariable, value));
        Assert.That(e!.Message, Does.StartWith("FPROXY_SHUTDOWN_DELAY").And.Contain($"\"{value}\""));
    }

    [TestCase("1", true)]
    [TestCase("true", true)]
    [TestCase("TRUE", true)]
    [TestCase("0", false)]
    [TestCase("false", false)]
    [TestCase("", false)]
    public void FromEnvironment_AccessLog_Parsed(string value, bool expected) =>
        Assert.That(Settings(HostSettings.AccessLogVariable, value).AccessLogAll, Is.EqualTo(expected));

    [TestCase("yes")]
    [TestCase("2")]
    [TestCase("on")]
    public void FromEnvironment_InvalidAccessLog_ThrowsNamingTheVariable(string value)
    {
        var e = Assert.Throws<ArgumentException>(() => Settings(HostSettings.AccessLogVariable, value));
        Assert.That(e!.Message, Does.StartWith("FPROXY_ACCESS_LOG").And.Contain("expected 1, true, 0 or false"));
    }

    [TestCase(null, ProxyTransport.Auto)]
    [TestCase("auto", ProxyTransport.Auto)]
    [TestCase("sockets", ProxyTransport.Sockets)]
    [TestCase(" Sockets ", ProxyTransport.Sockets)]
    public void FromEnvironment_Transport_Parsed(string? value, ProxyTransport expected) =>
        Assert.That(HostSettings.FromEnvironment(name => name == HostSettings.TransportVariable ? value : null).Transport, Is.EqualTo(expected));

    [Test]
    public void FromEnvironment_TransportEpoll_ParsedWhereItRuns()
    {
        if (!FProxy.Transport.Linux.EpollTransport.IsSupported)
        {
            var e = Assert.Throws<ArgumentException>(() => Settings(HostSettings.TransportVariable, "epoll"));
            Assert.That(e!.Message, Does.StartWith("FPROXY_TRANSPORT").And.Contain("Linux"));
            return;
        }

        Assert.That(Settings(HostSettings.TransportVariable, "epoll").Transport, Is.EqualTo(ProxyTransport.Epoll));
    }

    [TestCase("uring")]
    [TestCase("")]
    [TestCase("1")]
    public void FromEnvironment_InvalidTransport_ThrowsNamingTheVariable(string value)
    {
        if (value.Length == 0)
        {
            Assert.That(Settings(HostSettings.TransportVariable, value).Transport, Is.EqualTo(ProxyTransport.Auto), "empty is the default");
            return;
        }

        var e = Assert.Throws<ArgumentException>(() => Settings(HostSettings.TransportVariable, value));
        Assert.That(e!.Message, Does.StartWith("FPROXY_TRANSPORT").And.Contain($"\"{value}\"").And.Contain("auto, epoll or sockets"));
    }

    [TestCase("1", 1)]
    [TestCase("16", 16)]
    [TestCase("1024", 1024)]
    public void FromEnvironment_IoThreads_Parsed(string value, int expected) =>
        Assert.That(Settings(HostSettings.IoThreadsVariable, value).IoThreads, Is.EqualTo(expected));

    [TestCase("0")]
    [TestCase("-1")]
    [TestCase("1025")]
    [TestCase("two")]
    public void FromEnvironment_InvalidIoThreads_ThrowsNamingTheVariable(string value)
    {
        var e = Assert.Throws<ArgumentException>(() => Settings(HostSettings.IoThreadsVariable, value));
        Assert.That(e!.Message, Does.StartWith("FPROXY_IO_THREADS").And.Contain($"\"{value}\"").And.Contain("1 to 1024"));
    }

    [TestCase(null, true)]
    [TestCase("1", true)]
    [TestCase("0", false)]
    [TestCase("false", false)]
    public void FromEnvironment_Splice_Parsed(string? value, bool expected) =>
        Assert.That(HostSettings.FromEnvironment(name => name == HostSettings.SpliceVariable ? value : null).Splice, Is.EqualTo(expected));

    [Test]
    public void FromEnvironment_OtlpEndpoint_Parsed() =>
        Assert.That(Settings(HostSettings.OtlpEndpointVariable, "http://127.0.0.1:4318").OtlpEndpoint, Is.EqualTo(new Uri("http://127.0.0.1:4318")));

    [Test]
    public void ShutdownTimeoutFor_DelayAndLongestDrain_CoversBothWithMargin()
    {
        var config = FProxy.Tests.Infrastructure.TestConfigs.Config(
            FProxy.Tests.Infrastructure.TestConfigs.App("a", [1]) with { DrainTimeout = TimeSpan.FromSeconds(30) },
            FProxy.Tests.Infrastructure.TestConfigs.App("b", [2]) with { DrainTimeout = TimeSpan.FromSeconds(5) });

        Assert.That(FProxy.Hosting.FProxyService.ShutdownTimeoutFor(config, TimeSpan.FromSeconds(7)), Is.EqualTo(TimeSpan.FromSeconds(7 + 30 + 10)));
    }

    [TestCase("http://0.0.0.0:9901")]
    [TestCase("http://[::]:9901")]
    [TestCase("http://10.1.2.3:9901")]
    public void FromEnvironment_AdminBeyondLoopbackWithoutToken_ThrowsNamingTheToken(string url)
    {
        var e = Assert.Throws<ArgumentException>(() => Settings(HostSettings.AdminUrlVariable, url));
        Assert.That(e!.Message, Does.StartWith("FPROXY_ADMIN_TOKEN is required when FPROXY_ADMIN_URL").And.Contain("Authorization: Bearer"));
    }

    [TestCase("short")]
    [TestCase("sixteen chars ok")]
    public void FromEnvironment_UnusableToken_ThrowsNamingIt(string token)
    {
        var e = Assert.Throws<ArgumentException>(() => Settings(HostSettings.AdminTokenVariable, token));
        Assert.That(e!.Message, Does.StartWith("FPROXY_ADMIN_TOKEN: the admin token must be at least 16 characters without spaces"));
    }

    [Test]
    public void FromEnvironment_TokenOnLoopback_IsRequiredByTheRoutesThere()
    {
        var token = Settings(HostSettings.AdminTokenVariable, Token).AdminToken;
        Assert.That(token, Is.Not.Null);
        Assert.Multiple(() =>
        {
            Assert.That(token!.Accepts("Bearer " + Token), Is.True);
            Assert.That(token.Accepts("bearer " + Token), Is.True, "the scheme is case-insensitive");
            Assert.That(token.Accepts("Bearer " + Token + "x"), Is.False);
            Assert.That(token.Accepts("Bearer " + Token[..^1]), Is.False);
            Assert.That(token.Accepts(Token), Is.False, "no scheme");
            Assert.That(token.Accepts("Basic " + Token), Is.False);
            Assert.That(token.Accepts(default(Microsoft.Extensions.Primitives.StringValues)), Is.False);
            Assert.That(token.Accepts(new Microsoft.Extensions.Primitives.StringValues(["Bearer " + Token, "Bearer " + Token])), Is.False, "one header, not several");
        });
    }

    private const string Token = "0123456789abcdef0123456789abcdef";

    private static HostSettings Settings(string variable, string value) =>
        HostSettings.FromEnvironment(name => name == variable ? value : null);
}

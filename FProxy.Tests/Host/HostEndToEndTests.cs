using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>The built FProxy.Host as an operator runs it: config file, FPROXY_* variables, --check, reloads, signals.</summary>
[CancelAfter(30_000)]
public sealed class HostEndToEndTests
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Two apps, the second with a duplicated port and a misspelt key.</summary>
    private const string InvalidConfig = """
        {"Apps":[
          {"Name":"a","Ports":[5001],"Targets":["127.0.0.1:9001"]},
          {"Name":"b","Ports":[5001],"Targetz":["127.0.0.1:9001"]}
        ]}
        """;

    [Test]
    public async Task Start_ConfigFile_EchoesThroughIPv4(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])));
        await host.WaitForLineAsync("config applied", StartTimeout);

        Assert.That(await Probe.EchoAsync(port, "hello", ct), Is.EqualTo("hello"));
        Assert.That(host.Lines, Has.Some.Contains($"listening on 127.0.0.1:{port}"));
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Start_DefaultBind_EchoesOverIPv4AndIPv6(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target], bind: null)));
        await host.WaitForLineAsync("config applied", StartTimeout);

        Assert.That(await Probe.EchoAsync(port, "v4", ct), Is.EqualTo("v4"));
        if (Ipv6LoopbackWorks())
        {
            Assert.That(await Probe.EchoAsync(port, "v6", ct, IPAddress.IPv6Loopback), Is.EqualTo("v6"), "the default Bind is dual-stack");
        }
        else
        {
            TestContext.Out.WriteLine("::1 is not usable here: IPv6 part skipped");
        }

        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Check_ValidConfig_ExitsZeroAndPrintsOk()
    {
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [5001, 5002], ["127.0.0.1:9001"])), args: ["--check"]);

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.Zero, host.Output);
        Assert.That(host.Lines, Has.Some.Contains("ok (1 app(s), 2 port(s))"));
        Assert.That(host.Lines, Has.Some.Contains(host.ConfigPath));
    }

    [TestCase(true)]
    [TestCase(false)]
    public async Task StartOrCheck_InvalidConfig_ExitsTwoNamingAppAndFieldWithoutStackTrace(bool check)
    {
        using var host = HostProcess.Start(InvalidConfig, args: check ? ["--check"] : []);

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.EqualTo(2), host.Output);
        var errors = string.Join("\n", host.ErrorLines);
        Assert.Multiple(() =>
        {
            Assert.That(errors, Does.Contain("Apps[1] \"b\"").And.Contain("unknown key \"Targetz\""));
            Assert.That(errors, Does.Contain("port 5001 is already used by app \"a\""));
            AssertNoStackTrace(host);
        });
    }

    [Test]
    public async Task Start_MissingConfigFile_ExitsTwoNamingTheFile()
    {
        using var host = HostProcess.Start(configJson: null);

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.EqualTo(2), host.Output);
        Assert.That(string.Join("\n", host.ErrorLines), Does.Contain(host.ConfigPath).And.Contain("not found"));
        AssertNoStackTrace(host);
    }

    [TestCase("FPROXY_LOG_LEVEL", "loud")]
    [TestCase("FPROXY_DNS_SERVERS", "abc")]
    [TestCase("FPROXY_ADMIN_URL", "https://127.0.0.1:9901")]
    [TestCase("FPROXY_ADMIN_URL", "http://admin.example:9901")]
    [TestCase("FPROXY_ADMIN_URL", "http://127.0.0.1:70000")]
    [TestCase("FPROXY_ADMIN_URL", "http://127.0.0.1:9901/admin")]
    [TestCase("FPROXY_ADMIN_URL", "off")]
    [TestCase("FPROXY_SHUTDOWN_DELAY", "5")]
    [TestCase("FPROXY_SHUTDOWN_DELAY", "-1s")]
    [TestCase("FPROXY_ACCESS_LOG", "yes")]
    [TestCase("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]
    [TestCase("FPROXY_TRANSPORT", "uring")]
    [TestCase("FPROXY_IO_THREADS", "0")]
    [TestCase("FPROXY_IO_THREADS", "many")]
    [TestCase("FPROXY_SPLICE", "maybe")]
    public async Task Start_InvalidVariable_ExitsTwoNamingIt(string variable, string value)
    {
        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("a", [TestConfigs.FreePorts(1)[0]], ["127.0.0.1:9001"])),
            new Dictionary<string, string?> { [variable] = value });

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.EqualTo(2), host.Output);
        Assert.That(string.Join("\n", host.ErrorLines), Does.Contain(variable).And.Contain(value));
        AssertNoStackTrace(host);
    }

    [TestCase("1")]
    [TestCase("true")]
    public async Task Start_AccessLogVariable_LogsEachConnectionAtInformation(string value, CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])),
            new Dictionary<string, string?> { ["FPROXY_ACCESS_LOG"] = value });
        await host.WaitForLineAsync("config applied", StartTimeout);

        Assert.That(await Probe.EchoAsync(port, "hello", ct), Is.EqualTo("hello"));

        await host.WaitForLineAsync("bytes_up=5 bytes_down=5", TimeSpan.FromSeconds(10));
        var line = host.Lines.Single(static l => l.Contains("bytes_up=5 bytes_down=5", StringComparison.Ordinal));
        Assert.That(line, Does.Contain("info: FProxy.Access[1250]").And.Contain($"a port={port}").And.Contain($"target={echo.Target}").And.Contain("end=closed"));
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Start_AccessLogAtWarningLevel_FProxyLogLevelStillGovernsIt(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])),
            new Dictionary<string, string?> { ["FPROXY_ACCESS_LOG"] = "1", ["FPROXY_LOG_LEVEL"] = "warning" });
        await host.WaitForPortAsync(port, StartTimeout); // "config applied" is not written at warning level.

        Assert.That(await Probe.EchoAsync(port, "hello", ct), Is.EqualTo("hello"));

        // The shutdown lines come after any access line the connection could have written.
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
        Assert.That(host.CountEvent(1250), Is.Zero, host.Output);
    }

    [Test]
    public async Task Start_NoAccessLog_LogsNoConnection(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])));
        await host.WaitForLineAsync("config applied", StartTimeout);

        Assert.That(await Probe.EchoAsync(port, "hello", ct), Is.EqualTo("hello"));

        // The shutdown lines come after any access line the connection could have written.
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
        Assert.That(host.CountEvent(1250), Is.Zero, host.Output);
    }

    [Test]
    public async Task Reload_PortAdded_BoundWithinSecondsWhileOpenConnectionKeepsWorking(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var ports = TestConfigs.FreePorts(2);
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [ports[0]], [echo.Target])));
        await host.WaitForLineAsync("config applied", StartTimeout);
        using var open = await Sockets.ConnectAsync(ports[0], ct);
        await EchoOnAsync(open, "before", ct);

        host.RewriteConfig(HostProcess.ConfigJson(HostProcess.AppJson("a", ports, [echo.Target])));

        await host.WaitForPortAsync(ports[1], TimeSpan.FromSeconds(10));
        Assert.That(await Probe.EchoAsync(ports[1], "new", ct), Is.EqualTo("new"));
        await EchoOnAsync(open, "after", ct);
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Reload_InvalidConfig_LogsErrorAndOldConfigKeepsServing(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])));
        await host.WaitForLineAsync("config applied", StartTimeout);
        using var open = await Sockets.ConnectAsync(port, ct);
        await EchoOnAsync(open, "before", ct);

        host.RewriteConfig(InvalidConfig);

        await host.WaitForEventAsync(1002, TimeSpan.FromSeconds(10));
        Assert.That(host.Lines.Single(l => l.Contains("[1002]", StringComparison.Ordinal)), Does.Contain("fail:").Or.Contain("error"));
        Assert.That(host.Output, Does.Contain("unknown key \"Targetz\""), "the problems are listed");
        Assert.That(await Probe.EchoAsync(port, "still", ct), Is.EqualTo("still"));
        await EchoOnAsync(open, "after", ct);
        Assert.That(host.CountLines("config applied"), Is.EqualTo(1), "nothing was applied");
        Assert.That(host.HasExited, Is.False);
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task SigTerm_OpenIdleConnection_ResetAfterDrainTimeoutAndExitsZero(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target], drainTimeout: "1s")));
        await host.WaitForLineAsync("config applied", StartTimeout);
        using var idle = await Sockets.ConnectAsync(port, ct);
        await EchoOnAsync(idle, "x", ct);
        var clock = Stopwatch.StartNew();

        host.Signal(HostProcess.SigTerm);

        Assert.That(await Sockets.ReadEndAsync(idle, ct), Is.EqualTo(SocketError.ConnectionReset), "reset at the drain deadline");
        Assert.That(await host.WaitForExitAsync(TimeSpan.FromSeconds(10)), Is.Zero, host.Output);
        Assert.That(clock.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(0.9)).And.LessThan(TimeSpan.FromSeconds(8)), "drained for about DrainTimeout");
        Assert.That(host.Lines, Has.Some.Contains("shutdown complete"));
    }

    [Test]
    public async Task SigHup_OpenConnection_ConfigReadAgainAndNothingCut(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])));
        await host.WaitForLineAsync("config applied", StartTimeout);
        using var open = await Sockets.ConnectAsync(port, ct);
        await EchoOnAsync(open, "before", ct);

        host.Signal(HostProcess.SigHup);

        await host.WaitForEventAsync(1406, TimeSpan.FromSeconds(10));
        await host.WaitForEventAsync(1010, TimeSpan.FromSeconds(10));
        Assert.That(host.HasExited, Is.False, "SIGHUP does not end the process");
        await EchoOnAsync(open, "after", ct);
        Assert.That(await Probe.EchoAsync(port, "new", ct), Is.EqualTo("new"));
        Assert.That(host.CountLines("config applied"), Is.EqualTo(1), "the same config is not applied again");
        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [TestCase(15, TestName = "SigTerm_NoConnections_ExitsZeroPromptly")]
    [TestCase(2, TestName = "SigInt_NoConnections_ExitsZeroPromptly")]
    public async Task Signal_NoConnections_ExitsZeroPromptly(int signal)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target], drainTimeout: "30s")));
        await host.WaitForLineAsync("config applied", StartTimeout);
        var clock = Stopwatch.StartNew();

        host.Signal(signal);
        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.Zero, host.Output);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)), "nothing to drain, so no wait for DrainTimeout");
    }

    private static async Task EchoOnAsync(Socket socket, string text, CancellationToken ct)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        await socket.SendAsync(bytes, SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(socket, bytes.Length, ct), Is.EqualTo(bytes));
    }

    private static void AssertNoStackTrace(HostProcess host)
    {
        Assert.That(host.Lines, Has.None.Contains("   at "), "no stack trace");
        Assert.That(host.Lines, Has.None.Contains("Unhandled exception"));
    }

    private static bool Ipv6LoopbackWorks()
    {
        try
        {
            using var s = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            s.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

extern alias FTestTool;

using System.Net;
using System.Net.Sockets;
using System.Text;
using FTestTool::FProxy.FTest.Cli;
using FTestTool::FProxy.FTest.Commands;
using FProxy.Tests.Daemon;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.FTest;

[CancelAfter(20_000)]
public sealed class EchoCommandTests
{
    [Test]
    public async Task Echo_Tagged_GreetsWithItsNameThenEchoes(CancellationToken ct)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var command = new EchoCommand(ToolConsole.Plain(output, error));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = command.RunAsync(new EchoOptions([0, 0], IPAddress.Loopback, "a", ProxyProtocol: false), stop.Token);
        var endPoints = await command.Listening.WaitAsync(ct);

        foreach (var endPoint in endPoints)
        {
            using var client = await Sockets.ConnectAsync(endPoint, ct);
            var greeting = $"a:{endPoint.Port}\n";
            Assert.That(Encoding.ASCII.GetString(await Sockets.ReadAsync(client, greeting.Length, ct)), Is.EqualTo(greeting));
            await client.SendAsync("hello"u8.ToArray(), SocketFlags.None, ct);
            Assert.That(Encoding.ASCII.GetString(await Sockets.ReadAsync(client, 5, ct)), Is.EqualTo("hello"));
            client.Shutdown(SocketShutdown.Send);
            Assert.That(await Sockets.ReadEndAsync(client, ct), Is.EqualTo(SocketError.Success), "half-closes after the client's FIN");
        }

        await stop.CancelAsync();
        Assert.That(await run, Is.Zero, error.ToString());
        Assert.That(output.ToString(), Does.Contain($"listening on 127.0.0.1:{endPoints[0].Port} (greeting \"a:{endPoints[0].Port}\\n\", then echo)").And.Contain("stopped"));
    }

    [Test]
    public async Task Echo_BehindFProxy_PingAndBalancerSeeEachBackend(CancellationToken ct)
    {
        var backendPorts = TestConfigs.FreePorts(2);
        using var output = new StringWriter();
        using var error = new StringWriter();
        var command = new EchoCommand(ToolConsole.Plain(output, error));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = command.RunAsync(new EchoOptions(backendPorts, IPAddress.Loopback, EchoCommand.DefaultTag, ProxyProtocol: false), stop.Token);
        await command.Listening.WaitAsync(ct);
        await using var daemon = DaemonFixture.Create();
        var ports = TestConfigs.FreePorts(1);
        await daemon.ApplyAsync(TestConfigs.Config(TestConfigs.App("a", ports, [.. backendPorts.Select(FTestRunner.Loopback)])), ct);

        var balancer = await FTestRunner.RunAsync(
            ct, "balancer", FTestRunner.Loopback(ports[0]), "-d", "x,x", "-e", $"echo:{backendPorts[0]},echo:{backendPorts[1]}");

        await stop.CancelAsync();
        Assert.That(await run, Is.Zero);
        Assert.That(balancer.ExitCode, Is.Zero, balancer.Error);
    }

    [Test]
    public async Task Echo_ViaCommandLineWithoutTag_IsPureEcho(CancellationToken ct)
    {
        var port = TestConfigs.FreePorts(1)[0];
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var echo = FTestRunner.RunAsync(stop.Token, "echo", port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        FTestRun? ping = null;
        await Wait.UntilAsync(() => echo.IsCompleted || TryPing(), TimeSpan.FromSeconds(10), "the echo backend to listen");

        await stop.CancelAsync();
        var stopped = await echo;
        Assert.That(stopped.ExitCode, Is.Zero, stopped.Error);
        Assert.That(stopped.Out, Does.Contain($"listening on 127.0.0.1:{port} (echo)"));
        Assert.That(ping!.Out, Does.Contain("4 bytes \"ping\""));

        bool TryPing()
        {
            ping = FTestRunner.RunAsync(ct, "ping", FTestRunner.Loopback(port)).GetAwaiter().GetResult();
            return ping.ExitCode == 0;
        }
    }

    [Test]
    public async Task Echo_PortInUse_OneLineExit1(CancellationToken ct)
    {
        await using var taken = new EchoServer();

        var run = await FTestRunner.RunAsync(ct, "echo", taken.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        run.AssertOneLineError(1, $"cannot listen on 127.0.0.1:{taken.Port}: port already in use");
    }

    [TestCase("echo", 2)]
    [TestCase("echo|70000", 1)]
    [TestCase("echo|x", 1)]
    [TestCase("echo|9001|--bind|nowhere", 1)]
    public async Task Echo_BadArguments_Exit1ForBadValues2ForMissingPort(string args, int exitCode, CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, args.Split('|'));

        run.AssertOneLineError(exitCode, "see ftest echo --help");
    }
}

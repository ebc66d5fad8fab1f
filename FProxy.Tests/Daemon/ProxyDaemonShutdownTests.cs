using System.Net.Sockets;
using FProxy.Tests.Infrastructure;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

[CancelAfter(30_000)]
public sealed class ProxyDaemonShutdownTests
{
    [Test]
    public async Task StopAsync_OpenConnection_ClosesListenersAtOnceAndWaitsForItToEnd(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(1);
        await daemon.ApplyAsync(Config(App("a", ports, echo.Target)), ct);
        using var open = await Sockets.ConnectAsync(ports[0], ct);
        await open.SendAsync("x"u8.ToArray(), SocketFlags.None, ct);
        await Sockets.ReadAsync(open, 1, ct);

        var stop = daemon.StopAsync(ct);

        var refused = Assert.ThrowsAsync<SocketException>(async () => await Sockets.ConnectAsync(ports[0], ct));
        Assert.That(refused!.SocketErrorCode, Is.EqualTo(SocketError.ConnectionRefused), "listeners close at once");
        Assert.That(stop.IsCompleted, Is.False, "the open connection drains");
        await open.SendAsync("y"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(open, 1, ct), Is.EqualTo("y"u8.ToArray()));

        open.Shutdown(SocketShutdown.Send);
        Assert.That(await Sockets.ReadEndAsync(open, ct), Is.EqualTo(SocketError.Success));
        await stop;
        Assert.That(daemon.ActiveConnections, Is.Zero);
    }

    [Test]
    public async Task StopAsync_ConnectionOutlivesDrainTimeout_IsResetAndStopCompletes(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(2);
        var quick = App("quick", [ports[0]], echo.Target) with { DrainTimeout = TimeSpan.FromMilliseconds(200) };
        var slow = App("slow", [ports[1]], echo.Target) with { DrainTimeout = TimeSpan.FromSeconds(2) };
        await daemon.ApplyAsync(Config(quick, slow), ct);
        using var quickClient = await Sockets.ConnectAsync(ports[0], ct);
        using var slowClient = await Sockets.ConnectAsync(ports[1], ct);
        await Wait.UntilAsync(() => daemon.ActiveConnections == 2, TimeSpan.FromSeconds(5), "both connections to be proxied");

        var stop = daemon.StopAsync(ct);

        Assert.That(await Sockets.ReadEndAsync(quickClient, ct), Is.EqualTo(SocketError.ConnectionReset), "reset at its app's DrainTimeout");
        Assert.That(stop.IsCompleted, Is.False, "the other app's longer drain goes on");
        Assert.That(await Sockets.ReadEndAsync(slowClient, ct), Is.EqualTo(SocketError.ConnectionReset));
        await stop;
    }

    [Test]
    public async Task StopAsync_NoConnections_CompletesPromptly(CancellationToken ct)
    {
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(App("a", FreePorts(2), "127.0.0.1:1") with { DrainTimeout = TimeSpan.FromHours(1) }), ct);
        await daemon.StopAsync(ct).WaitAsync(TimeSpan.FromSeconds(5), ct);
        Assert.That(daemon.BoundPorts, Is.Empty);
    }
}

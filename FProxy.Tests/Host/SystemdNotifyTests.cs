using System.Net.Sockets;
using System.Text;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>The host under systemd's Type=notify, with a fake NOTIFY_SOCKET: READY=1 once the first config is applied, STOPPING=1 at SIGTERM.</summary>
[CancelAfter(60_000)]
public sealed class SystemdNotifyTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(20);

    [Test]
    public async Task Start_UnderSystemd_ReadyOnceTheConfigIsAppliedThenStopping(CancellationToken ct)
    {
        var directory = Directory.CreateTempSubdirectory("fproxy-notify-");
        try
        {
            var path = Path.Combine(directory.FullName, "notify");
            using var notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            notify.Bind(new UnixDomainSocketEndPoint(path));
            await using var echo = new EchoServer();
            var port = TestConfigs.FreePorts(1)[0];
            using var host = HostProcess.Start(
                HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])),
                new Dictionary<string, string?> { ["NOTIFY_SOCKET"] = path });

            // Status lines may come first ("not ready: ..."), then READY=1.
            string message;
            do
            {
                message = await ReceiveAsync(notify, ct);
            }
            while (!message.Contains("READY=1", StringComparison.Ordinal));

            Assert.That(await Probe.EchoAsync(port, "up", ct), Is.EqualTo("up"), "ready means the config is applied: the port serves");

            var stopped = host.StopAsync(Deadline);
            do
            {
                message = await ReceiveAsync(notify, ct);
            }
            while (!message.Contains("STOPPING=1", StringComparison.Ordinal));

            Assert.That(await stopped, Is.Zero, host.Output);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static async Task<string> ReceiveAsync(Socket socket, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(Deadline);
        var buffer = new byte[1024];
        var received = await socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        return Encoding.UTF8.GetString(buffer, 0, received);
    }
}

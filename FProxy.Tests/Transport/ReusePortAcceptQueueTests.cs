using System.Net;
using System.Net.Sockets;
using FProxy.Transport;

namespace FProxy.Tests.Transport;

/// <summary>
/// What happens to connections queued on a reuse-port listener that closes (docs/operations.md):
/// the kernel resets them, unless net.ipv4.tcp_migrate_req = 1 moves them to another listener
/// of the group. Both outcomes are checked against the machine's setting.
/// </summary>
[CancelAfter(30_000)]
public sealed class ReusePortAcceptQueueTests
{
    [Test]
    public async Task Close_ListenerWithQueuedConnections_ResetsOrMigratesThemPerSysctl(CancellationToken ct)
    {
        var migrate = ReadSysctl("/proc/sys/net/ipv4/tcp_migrate_req");
        using var a = Listen(0);
        var port = ((IPEndPoint)a.LocalEndPoint!).Port;
        using var b = Listen(port);
        var clients = new List<Socket>();
        for (var i = 0; i < 24; i++)
        {
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct); // Queued: nobody accepts yet.
            clients.Add(client);
        }

        a.Close();

        var acceptedByB = new HashSet<EndPoint>();
        var reset = 0;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        var pending = new List<Socket>(clients);
        while (pending.Count > 0 && DateTime.UtcNow < deadline)
        {
            while (b.Poll(0, SelectMode.SelectRead))
            {
                using var accepted = b.Accept();
                acceptedByB.Add(accepted.RemoteEndPoint!);
            }

            foreach (var client in pending.ToArray())
            {
                if (acceptedByB.Contains(client.LocalEndPoint!))
                {
                    pending.Remove(client);
                }
                else if (client.Poll(0, SelectMode.SelectRead) && IsReset(client))
                {
                    reset++;
                    pending.Remove(client);
                }
            }

            await Task.Delay(10, ct);
        }

        clients.ForEach(c => c.Dispose());
        Assert.That(pending, Is.Empty, "every queued connection was either reset or accepted by the other listener");
        if (migrate == 1)
        {
            Assert.That(reset, Is.Zero, "tcp_migrate_req = 1 moves queued connections to the remaining listener");
        }
        else
        {
            Assert.That(reset, Is.GreaterThan(0), "tcp_migrate_req = 0: connections queued on the closed listener are reset");
        }
    }

    private static Socket Listen(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        SocketSetup.EnableReusePort(socket);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
        socket.Listen(64);
        return socket;
    }

    private static bool IsReset(Socket client)
    {
        try
        {
            _ = client.Receive(new byte[1]); // A FIN or data: not a reset.
            return false;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode == SocketError.ConnectionReset;
        }
    }

    private static int ReadSysctl(string path) =>
        File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var value) ? value : 0;
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>
/// HTTP/1.1 over plain sockets against the admin endpoint: a load balancer's probe (a new
/// connection, one request, read to the end) and the clients that misbehave on purpose (silent,
/// stalled). Also the host's side of its TCP connections, read from /proc.
/// </summary>
internal static class RawHttp
{
    /// <summary>What a stalled client asks the kernel for; Linux makes it about 2.3 KB, the least it allows.</summary>
    private const int StalledReceiveBuffer = 1024;

    /// <summary>One request on a new connection with <c>Connection: close</c>, read to the end: status line, headers, body, and how long it all took.</summary>
    public static async Task<(string Status, string Head, string Body, TimeSpan Elapsed)> GetAsync(int port, string path, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        using var socket = await Sockets.ConnectAsync(port, ct);
        await SendRequestAsync(socket, path, close: true, ct);
        var (bytes, _) = await ReadUntilClosedAsync(socket, TimeSpan.FromSeconds(10), ct);
        var elapsed = clock.Elapsed;
        var text = Encoding.UTF8.GetString(bytes);
        var split = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var head = split < 0 ? text : text[..split];
        var status = head.Split("\r\n")[0];
        return (status, head, split < 0 ? "" : text[(split + 4)..], elapsed);
    }

    /// <summary>Connects and sends <c>GET /events</c> through a receive buffer as small as the kernel allows, and will never read.</summary>
    public static async Task<Socket> StalledSubscriberAsync(int port, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Before the handshake, so the window it advertises is small from the start.
            socket.ReceiveBufferSize = StalledReceiveBuffer;
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
            await SendRequestAsync(socket, "/events", close: false, ct);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public static async Task SendRequestAsync(Socket socket, string path, bool close, CancellationToken ct)
    {
        var request = $"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{(close ? "Connection: close\r\n" : "")}\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, ct);
    }

    /// <summary>Reads until the peer closes (FIN) or resets; fails if neither happens within <paramref name="timeout"/>.</summary>
    public static async Task<(byte[] Bytes, bool Reset)> ReadUntilClosedAsync(Socket socket, TimeSpan timeout, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, deadline.Token);
                if (n == 0)
                {
                    return (received.ToArray(), false);
                }

                received.Write(buffer, 0, n);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return (received.ToArray(), true);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            Assert.Fail($"the connection was still open after {timeout.TotalSeconds} s ({received.Length} bytes read)");
            throw;
        }
    }

    /// <summary>
    /// The host's accepted TCP connections on <paramref name="port"/> (its side: local port
    /// <paramref name="port"/>), from /proc/PID/net/tcp: whether each is established, and the
    /// bytes in its send queue not yet taken by the peer.
    /// </summary>
    public static (bool Established, int SendQueue, int RemotePort)[] ServerConnections(int pid, int port)
    {
        var connections = new List<(bool, int, int)>();

        // "sl local_address rem_address st tx_queue:rx_queue ...", addresses and counts in hex.
        foreach (var line in File.ReadLines($"/proc/{pid}/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 5 || PortOf(fields[1]) != port || PortOf(fields[2]) == 0)
            {
                continue;
            }

            var sendQueue = int.Parse(fields[4].Split(':')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            connections.Add((fields[3] == "01", sendQueue, PortOf(fields[2])));
        }

        return [.. connections];
    }

    /// <summary>
    /// Raises this process's open-files limit as far as allowed (as the host does for itself);
    /// ignores the test when that is still below <paramref name="needed"/>.
    /// </summary>
    public static void RequireOpenFiles(int needed)
    {
        var limit = FProxy.Hosting.OpenFilesLimit.Raise();
        if (limit is { After: var after } && after < (ulong)needed)
        {
            Assert.Ignore($"needs {needed} open files and the hard limit allows {after} (ulimit -Hn)");
        }
    }

    private static int PortOf(string address) =>
        int.Parse(address[(address.IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
}

using System.Net;
using System.Net.Sockets;

namespace FProxy.Tests.Infrastructure;

/// <summary>Socket helpers for tests.</summary>
internal static class Sockets
{
    public static async Task<Socket> ConnectAsync(IPEndPoint endPoint, CancellationToken ct = default)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint, ct);
        return socket;
    }

    public static Task<Socket> ConnectAsync(int port, CancellationToken ct = default) =>
        ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);

    /// <summary>A connected loopback pair (client side, server side).</summary>
    public static Task<(Socket Client, Socket Server)> PairAsync(CancellationToken ct = default) => PairAsync(0, 0, ct);

    /// <summary>
    /// A connected loopback pair whose client sends through a small buffer and whose server receives
    /// through one (0: the default), set before the handshake so the window is small from the start:
    /// a slow reader then holds a sender back after a few KB.
    /// </summary>
    public static async Task<(Socket Client, Socket Server)> PairAsync(int clientSendBuffer, int serverReceiveBuffer, CancellationToken ct = default)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        if (serverReceiveBuffer > 0)
        {
            listener.ReceiveBufferSize = serverReceiveBuffer; // Accepted sockets inherit it.
        }

        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (clientSendBuffer > 0)
        {
            client.SendBufferSize = clientSendBuffer;
        }

        var connect = client.ConnectAsync(listener.LocalEndPoint!, ct).AsTask();
        var server = await listener.AcceptAsync(ct);
        await connect;
        return (client, server);
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or fewer if the peer ends first.</summary>
    public static async Task<byte[]> ReadAsync(Socket socket, int count, CancellationToken ct = default)
    {
        var buffer = new byte[count];
        var read = 0;
        while (read < count)
        {
            var n = await socket.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, ct);
            if (n == 0)
            {
                return buffer[..read];
            }

            read += n;
        }

        return buffer;
    }

    /// <summary>Everything the peer sends until its FIN.</summary>
    public static async Task<byte[]> ReadToEndAsync(Socket socket, CancellationToken ct = default)
    {
        var all = new List<byte>();
        var buffer = new byte[4096];
        int n;
        while ((n = await socket.ReceiveAsync(buffer, SocketFlags.None, ct)) > 0)
        {
            all.AddRange(buffer.AsSpan(0, n));
        }

        return [.. all];
    }

    /// <summary>Waits for the peer's FIN (0) or reset (SocketException); returns what ended the stream.</summary>
    public static async Task<SocketError> ReadEndAsync(Socket socket, CancellationToken ct = default)
    {
        var buffer = new byte[1024];
        try
        {
            while (await socket.ReceiveAsync(buffer, SocketFlags.None, ct) > 0)
            {
            }

            return SocketError.Success;
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
    }

    /// <summary>
    /// Connects and waits for the end of the stream. A proxy that resets at once can beat the
    /// connect's own completion on loopback, so a reset during connect counts as the end too.
    /// </summary>
    public static async Task<SocketError> ConnectAndReadEndAsync(int port, CancellationToken ct = default)
    {
        try
        {
            using var socket = await ConnectAsync(port, ct);
            return await ReadEndAsync(socket, ct);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return e.SocketErrorCode;
        }
    }

    /// <summary>
    /// Connects to a greeting backend through the proxy and returns its greeting line ("A"), or
    /// "reset" when the proxy reset the client (no target reachable).
    /// </summary>
    public static async Task<string> GreetingAsync(int port, CancellationToken ct, IPAddress? source = null, IPAddress? to = null)
    {
        to ??= IPAddress.Loopback;
        using var socket = new Socket(to.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (source is not null)
        {
            socket.Bind(new IPEndPoint(source, 0));
        }

        try
        {
            await socket.ConnectAsync(new IPEndPoint(to, port), ct);
            var line = new List<byte>();
            var one = new byte[1];
            while (await socket.ReceiveAsync(one, SocketFlags.None, ct) == 1 && one[0] != (byte)'\n')
            {
                line.Add(one[0]);
            }

            return line.Count == 0 ? "closed" : System.Text.Encoding.ASCII.GetString([.. line]);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionRefused)
        {
            return "reset";
        }
    }

    /// <summary>A loopback port nobody listens on, never handed out before in this test run.</summary>
    public static int UnusedPort() => TestPorts.Take(1)[0];

    /// <summary>A listener whose accept queue is full, so SYNs to it go unanswered (a black hole on loopback).</summary>
    public static Socket SilentListener(IPAddress address, out List<Socket> fillers, int port = 0)
    {
        var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(address, port));
        silent.Listen(0);
        fillers = [];
        for (var i = 0; i < 3; i++)
        {
            var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _ = filler.ConnectAsync(silent.LocalEndPoint!).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            fillers.Add(filler);
        }

        return silent;
    }
}

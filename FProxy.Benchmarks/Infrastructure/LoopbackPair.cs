using System.Net;
using System.Net.Sockets;

namespace FProxy.Benchmarks.Infrastructure;

/// <summary>Connected loopback socket pairs.</summary>
internal static class LoopbackPair
{
    /// <summary>A connected pair (connecting side, accepted side), Nagle off on both.</summary>
    public static async Task<(Socket Client, Socket Server)> CreateAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        var connect = client.ConnectAsync(listener.LocalEndPoint!);
        var server = await listener.AcceptAsync().ConfigureAwait(false);
        await connect.ConfigureAwait(false);
        server.NoDelay = true;
        return (client, server);
    }

    /// <summary>Sends <paramref name="total"/> bytes in <paramref name="chunk"/>-sized writes.</summary>
    public static async Task SendAsync(Socket socket, ReadOnlyMemory<byte> chunk, long total)
    {
        while (total > 0)
        {
            var n = await socket.SendAsync(chunk[..(int)Math.Min(chunk.Length, total)], SocketFlags.None).ConfigureAwait(false);
            total -= n;
        }
    }

    /// <summary>Receives exactly <paramref name="total"/> bytes; throws if the stream ends first.</summary>
    public static async Task ReceiveAsync(Socket socket, Memory<byte> buffer, long total)
    {
        while (total > 0)
        {
            var n = await socket.ReceiveAsync(buffer[..(int)Math.Min(buffer.Length, total)], SocketFlags.None).ConfigureAwait(false);
            if (n == 0)
            {
                throw new InvalidOperationException($"The stream ended with {total} bytes still expected.");
            }

            total -= n;
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FProxy.Tests.Infrastructure;

/// <summary>Client-side checks through a proxy port.</summary>
internal static class Probe
{
    /// <summary>Connects, sends a line, expects it echoed, closes. Returns the echo.</summary>
    public static async Task<string> EchoAsync(int port, string text = "ping", CancellationToken ct = default, IPAddress? address = null)
    {
        using var socket = await Sockets.ConnectAsync(new IPEndPoint(address ?? IPAddress.Loopback, port), ct);
        var bytes = Encoding.ASCII.GetBytes(text);
        await socket.SendAsync(bytes, SocketFlags.None, ct);
        var reply = await Sockets.ReadAsync(socket, bytes.Length, ct);
        socket.Shutdown(SocketShutdown.Send);
        await Sockets.ReadEndAsync(socket, ct);
        return Encoding.ASCII.GetString(reply);
    }

    /// <summary>Reads a greeting line from a tagged echo server through the proxy.</summary>
    public static async Task<string> GreetingAsync(int port, string expectPrefix, CancellationToken ct = default)
    {
        using var socket = await Sockets.ConnectAsync(port, ct);
        var reply = await Sockets.ReadAsync(socket, expectPrefix.Length + 1, ct);
        return Encoding.ASCII.GetString(reply);
    }
}

using System.Net;
using System.Net.Sockets;

namespace FProxy.Benchmarks.Infrastructure;

/// <summary>
/// Client sockets bound to 127.0.0.2 .. 127.0.0.(1 + count) in turn. A tight connect-and-close
/// loop on loopback leaves one TIME_WAIT socket per connection for 60 s, and one source address
/// has only ~28,000 ephemeral ports (32768-60999) per destination: spreading the sources
/// multiplies that budget. IP_BIND_ADDRESS_NO_PORT lets connect() pick the port per 4-tuple
/// instead of bind() reserving it for the address, as a plain bind to port 0 would.
/// </summary>
internal sealed class SourceAddresses(int count = 16)
{
    // Linux values from <linux/in.h>; .NET has no named option for IP_BIND_ADDRESS_NO_PORT.
    private const int IpProtoIp = 0;
    private const int IpBindAddressNoPort = 24;
    private static readonly byte[] On = BitConverter.GetBytes(1);

    private readonly IPEndPoint[] _sources = [.. Enumerable.Range(2, count).Select(static n => new IPEndPoint(new IPAddress([127, 0, 0, (byte)n]), 0))];
    private int _next;

    /// <summary>A new TCP socket (Nagle off) bound to the next source address, ready to connect.</summary>
    public Socket NewSocket()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(IpProtoIp, IpBindAddressNoPort, On);
        }

        socket.Bind(_sources[_next]);
        _next = (_next + 1) % _sources.Length;
        return socket;
    }
}

using System.Net;
using System.Net.Sockets;
using FProxy.Configuration;

namespace FProxy.Transport;

/// <summary>Socket options and teardown shared by listeners, the connector and the pump.</summary>
internal static class SocketSetup
{
    // Linux values from <asm-generic/socket.h>; .NET has no named option for SO_REUSEPORT.
    private const int SolSocket = 1;
    private const int SoReusePort = 15;

    // struct tcp_info from <linux/tcp.h>: tcpi_bytes_acked (since Linux 4.1) is a u64 at offset 120.
    private const int IpProtoTcp = 6;
    private const int TcpInfo = 11;
    private const int TcpInfoBytesAcked = 120;

    private static readonly LingerOption ResetOnClose = new(true, 0);

    /// <summary>
    /// SO_REUSEADDR (rebind while old connections sit in TIME_WAIT) and SO_REUSEPORT (a second
    /// socket or process may bind the same port, which is how rebinds and upgrades hand over).
    /// Must run before Bind.
    /// </summary>
    public static void EnableReusePort(Socket socket)
    {
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        if (OperatingSystem.IsLinux())
        {
            socket.SetRawSocketOption(SolSocket, SoReusePort, BitConverter.GetBytes(1));
        }
    }

    /// <summary>Reads SO_REUSEPORT back (tests prove it is set).</summary>
    public static bool IsReusePortEnabled(Socket socket)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        Span<byte> value = stackalloc byte[4];
        socket.GetRawSocketOption(SolSocket, SoReusePort, value);
        return BitConverter.ToInt32(value) != 0;
    }

    /// <summary>
    /// TCP_NODELAY and keepalive: set on target sockets, and on listening sockets, whose accepted
    /// sockets inherit them (Linux copies the listener's TCP settings into each child socket).
    /// </summary>
    public static void ConfigureConnection(Socket socket, KeepAliveConfig keepAlive)
    {
        socket.NoDelay = true;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, keepAlive.Enabled);
        if (!keepAlive.Enabled)
        {
            return;
        }

        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, Seconds(keepAlive.Idle));
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, Seconds(keepAlive.Interval));
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, keepAlive.Count);
    }

    /// <summary>Closes with linger 0, so the peer gets a RST instead of a FIN.</summary>
    public static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = ResetOnClose;
        }
        catch (SocketException)
        {
            // Already broken: closing below still releases it.
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        socket.Dispose();
    }

    /// <summary>Half-closes: sends FIN, keeps receiving.</summary>
    /// <summary>Shuts both directions down (FIN to the peer, pending receives end with 0), ignoring a socket already gone.</summary>
    public static void TryShutdownBoth(Socket? socket)
    {
        try
        {
            socket?.Shutdown(SocketShutdown.Both);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already reset or closed: nothing left to shut down.
        }
    }

    public static void TryShutdownSend(Socket socket)
    {
        try
        {
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException)
        {
            // The peer is gone; the receive side reports it.
        }
        catch (ObjectDisposedException)
        {
            // Aborted concurrently.
        }
    }

    /// <summary>
    /// How many bytes the peer has acknowledged on <paramref name="socket"/> (Linux TCP_INFO): once
    /// the buffers between are full, it grows only while the peer's application reads. False where
    /// unknown (another OS, an old kernel, a socket already gone).
    /// </summary>
    public static bool TryGetBytesAcked(Socket socket, out long acked)
    {
        acked = 0;
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        Span<byte> info = stackalloc byte[TcpInfoBytesAcked + sizeof(long)];
        try
        {
            if (socket.GetRawSocketOption(IpProtoTcp, TcpInfo, info) < info.Length)
            {
                return false;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }

        acked = System.Runtime.InteropServices.MemoryMarshal.Read<long>(info[TcpInfoBytesAcked..]);
        return true;
    }

    /// <summary>Clients arriving as IPv4-mapped IPv6 addresses are IPv4 everywhere (logs, rules, hashing).</summary>
    public static IPEndPoint? Normalize(EndPoint? endPoint) => endPoint switch
    {
        IPEndPoint { Address.IsIPv4MappedToIPv6: true } ip => new IPEndPoint(ip.Address.MapToIPv4(), ip.Port),
        IPEndPoint ip => ip,
        _ => null,
    };

    private static int Seconds(TimeSpan value) => Math.Max(1, (int)Math.Ceiling(value.TotalSeconds));
}

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace FProxy.Transport.Linux;

/// <summary>
/// Linux sockaddr_in / sockaddr_in6 in a caller's buffer, so connects and accepts need no
/// <see cref="EndPoint"/> serialization (the runtime's SocketAddress) per call.
/// </summary>
internal static class SockAddr
{
    /// <summary>sizeof(struct sockaddr_in6), the larger of the two.</summary>
    public const int MaxSize = 28;

    /// <summary>Writes <paramref name="address"/>:<paramref name="port"/>; returns the length to pass to connect.</summary>
    public static int Write(IPAddress address, int port, Span<byte> buffer)
    {
        buffer[..MaxSize].Clear();
        BinaryPrimitives.WriteUInt16BigEndian(buffer[2..], (ushort)port);
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(buffer, Libc.AfInet);
            address.TryWriteBytes(buffer.Slice(4, 4), out _);
            return 16;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(buffer, Libc.AfInet6);
        address.TryWriteBytes(buffer.Slice(8, 16), out _);
        BinaryPrimitives.WriteUInt32LittleEndian(buffer[24..], (uint)address.ScopeId);
        return MaxSize;
    }

    /// <summary>The address family (AF_INET or AF_INET6) a buffer from <see cref="Write"/> holds.</summary>
    public static int Family(ReadOnlySpan<byte> buffer) => BinaryPrimitives.ReadUInt16LittleEndian(buffer);

    /// <summary>
    /// The endpoint in a buffer filled by accept4, with IPv4-mapped IPv6 addresses as IPv4 (as
    /// everywhere in FProxy: logs, rules, hashing); null for any other family.
    /// </summary>
    public static IPEndPoint? Read(ReadOnlySpan<byte> buffer)
    {
        var port = BinaryPrimitives.ReadUInt16BigEndian(buffer[2..]);
        switch (Family(buffer))
        {
            case Libc.AfInet:
                return new IPEndPoint(new IPAddress(buffer.Slice(4, 4)), port);
            case Libc.AfInet6:
                var bytes = buffer.Slice(8, 16);
                if (bytes[..10].IndexOfAnyExcept((byte)0) < 0 && bytes[10] == 0xff && bytes[11] == 0xff)
                {
                    return new IPEndPoint(new IPAddress(bytes[12..]), port);
                }

                return new IPEndPoint(new IPAddress(bytes, BinaryPrimitives.ReadUInt32LittleEndian(buffer[24..])), port);
            default:
                return null;
        }
    }
}

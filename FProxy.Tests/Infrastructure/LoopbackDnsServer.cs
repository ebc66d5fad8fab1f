using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A tiny authoritative DNS responder on 127.0.0.1 (UDP and TCP on the same port) for tests, so no test
/// ever queries the machine's nameserver. Answers A and AAAA from <see cref="Set"/>; unknown names get
/// NXDOMAIN. Written by hand (RFC 1035 section 4): one question per query, answers use a compression
/// pointer to the question name, no EDNS. A UDP answer over 512 bytes is sent truncated (TC) so clients
/// retry over TCP.
/// </summary>
internal sealed class LoopbackDnsServer : IAsyncDisposable
{
    private const ushort TypeA = 1;
    private const ushort TypeAaaa = 28;
    private const int MaxUdpAnswer = 512;

    private readonly ConcurrentDictionary<string, Zone> _zones = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, int> _queries = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentQueue<string> _queryLog = new();
    private readonly ConcurrentDictionary<Socket, Task> _tcpConnections = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Socket _udp;
    private readonly Socket _tcp;
    private readonly Task _udpLoop;
    private readonly Task _tcpLoop;
    private int _totalQueries;

    public LoopbackDnsServer()
    {
        (_udp, _tcp) = BindSamePort();
        EndPoint = (IPEndPoint)_udp.LocalEndPoint!;
        _udpLoop = Task.Run(UdpLoopAsync);
        _tcpLoop = Task.Run(TcpLoopAsync);
    }

    private enum Mode
    {
        Answer,
        NxDomain,
        ServFail,
        Drop,
    }

    /// <summary>Where to send queries (UDP or TCP).</summary>
    public IPEndPoint EndPoint { get; }

    /// <summary>Queries received so far, over UDP and TCP, for every name.</summary>
    public int TotalQueryCount => Volatile.Read(ref _totalQueries);

    /// <summary>
    /// Answers <paramref name="name"/> with <paramref name="addresses"/>: A queries get the IPv4 ones,
    /// AAAA queries the IPv6 ones; a family with none gets NOERROR and no answer.
    /// </summary>
    public void Set(string name, IPAddress[] addresses, int ttlSeconds = 60) =>
        _zones[Normalize(name)] = new Zone(Mode.Answer, [.. addresses], ttlSeconds);

    /// <summary>Answers <paramref name="name"/> with NXDOMAIN (also what unknown names get).</summary>
    public void SetNxDomain(string name) => _zones[Normalize(name)] = new Zone(Mode.NxDomain, [], 0);

    /// <summary>Answers <paramref name="name"/> with SERVFAIL.</summary>
    public void SetServFail(string name) => _zones[Normalize(name)] = new Zone(Mode.ServFail, [], 0);

    /// <summary>Never answers queries for <paramref name="name"/> (the client times out).</summary>
    public void SetDrop(string name) => _zones[Normalize(name)] = new Zone(Mode.Drop, [], 0);

    /// <summary>Queries received for <paramref name="name"/> (any type; a UDP query retried over TCP counts twice).</summary>
    public int QueryCount(string name) => _queries.TryGetValue(Normalize(name), out int count) ? count : 0;

    /// <summary>
    /// Every name queried so far, once each, in the order of its first query. A resolver asks A and
    /// AAAA of one name in parallel, so only the order between names means something.
    /// </summary>
    public string[] QueriedNames() => [.. _queryLog.Distinct(StringComparer.OrdinalIgnoreCase)];

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _udp.Dispose();
        _tcp.Dispose();
        foreach (Socket connection in _tcpConnections.Keys)
        {
            connection.Dispose();
        }

        await Task.WhenAll([_udpLoop, _tcpLoop, .. _tcpConnections.Values]);
        _stop.Dispose();
    }

    /// <summary>Builds the reply to <paramref name="query"/>, or null to send nothing.</summary>
    internal byte[]? Respond(ReadOnlySpan<byte> query, bool udp)
    {
        if (query.Length < 12 || (query[2] & 0x80) != 0)
        {
            return null; // Too short for a header, or a response: ignore.
        }

        ushort id = BinaryPrimitives.ReadUInt16BigEndian(query);
        ushort flags = BinaryPrimitives.ReadUInt16BigEndian(query[2..]);
        ushort questions = BinaryPrimitives.ReadUInt16BigEndian(query[4..]);
        if (questions != 1 || !TryReadQuestion(query, out string name, out ushort type, out int questionEnd))
        {
            return Header(id, flags, rcode: 1, answers: 0, question: []); // FORMERR
        }

        _queries.AddOrUpdate(name, 1, static (_, n) => n + 1);
        _queryLog.Enqueue(name);
        Interlocked.Increment(ref _totalQueries);
        ReadOnlySpan<byte> question = query[12..questionEnd];
        Zone? zone = _zones.GetValueOrDefault(name);
        switch (zone?.Mode)
        {
            case Mode.Drop:
                return null;
            case Mode.ServFail:
                return Header(id, flags, rcode: 2, answers: 0, question);
            case null or Mode.NxDomain:
                return Header(id, flags, rcode: 3, answers: 0, question);
        }

        AddressFamily family = type switch
        {
            TypeA => AddressFamily.InterNetwork,
            TypeAaaa => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unknown,
        };
        IPAddress[] matching = [.. zone.Addresses.Where(a => a.AddressFamily == family)];
        int dataLength = family == AddressFamily.InterNetwork ? 4 : 16;
        int size = 12 + question.Length + (matching.Length * (12 + dataLength));
        if (udp && size > MaxUdpAnswer)
        {
            byte[] truncated = Header(id, flags, rcode: 0, answers: 0, question);
            truncated[2] |= 0x02; // TC: ask the client to retry over TCP.
            return truncated;
        }

        byte[] reply = Header(id, flags, rcode: 0, answers: matching.Length, question, size);
        int offset = 12 + question.Length;
        foreach (IPAddress address in matching)
        {
            Span<byte> record = reply.AsSpan(offset);
            BinaryPrimitives.WriteUInt16BigEndian(record, 0xC00C); // Pointer to the question's name.
            BinaryPrimitives.WriteUInt16BigEndian(record[2..], type);
            BinaryPrimitives.WriteUInt16BigEndian(record[4..], 1); // IN
            BinaryPrimitives.WriteInt32BigEndian(record[6..], zone.TtlSeconds);
            BinaryPrimitives.WriteUInt16BigEndian(record[10..], (ushort)dataLength);
            address.TryWriteBytes(record[12..], out _);
            offset += 12 + dataLength;
        }

        return reply;
    }

    private static byte[] Header(ushort id, ushort queryFlags, int rcode, int answers, ReadOnlySpan<byte> question, int size = 0)
    {
        byte[] reply = new byte[Math.Max(size, 12 + question.Length)];
        BinaryPrimitives.WriteUInt16BigEndian(reply, id);

        // QR, the query's opcode and RD, AA (we are the authority), RA, and the response code.
        int flags = 0x8000 | (queryFlags & 0x7800) | 0x0400 | (queryFlags & 0x0100) | 0x0080 | rcode;
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(2), (ushort)flags);
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(4), (ushort)(question.IsEmpty ? 0 : 1));
        BinaryPrimitives.WriteUInt16BigEndian(reply.AsSpan(6), (ushort)answers);
        question.CopyTo(reply.AsSpan(12));
        return reply;
    }

    private static bool TryReadQuestion(ReadOnlySpan<byte> query, out string name, out ushort type, out int end)
    {
        name = "";
        type = 0;
        end = 0;
        var labels = new List<string>();
        int position = 12;
        while (true)
        {
            if (position >= query.Length)
            {
                return false;
            }

            int length = query[position++];
            if (length == 0)
            {
                break;
            }

            if ((length & 0xC0) != 0 || position + length > query.Length)
            {
                return false; // Queries carry no compression pointers.
            }

            labels.Add(System.Text.Encoding.ASCII.GetString(query.Slice(position, length)));
            position += length;
        }

        if (position + 4 > query.Length)
        {
            return false;
        }

        name = string.Join('.', labels);
        type = BinaryPrimitives.ReadUInt16BigEndian(query[position..]);
        end = position + 4;
        return true;
    }

    private static string Normalize(string name) => name.TrimEnd('.');

    private static (Socket Udp, Socket Tcp) BindSamePort()
    {
        // Bind UDP to an ephemeral port, then TCP to the same number; retry if TCP's is taken.
        for (int attempt = 0; ; attempt++)
        {
            var udp = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var tcp = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                udp.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                tcp.Bind(udp.LocalEndPoint!);
                tcp.Listen(16);
                return (udp, tcp);
            }
            catch (SocketException) when (attempt < 20)
            {
                udp.Dispose();
                tcp.Dispose();
            }
        }
    }

    private async Task UdpLoopAsync()
    {
        byte[] buffer = new byte[4096];
        var any = new IPEndPoint(IPAddress.Any, 0);
        while (!_stop.IsCancellationRequested)
        {
            try
            {
                SocketReceiveFromResult received = await _udp.ReceiveFromAsync(buffer, SocketFlags.None, any, _stop.Token);
                byte[]? reply = Respond(buffer.AsSpan(0, received.ReceivedBytes), udp: true);
                if (reply is not null)
                {
                    await _udp.SendToAsync(reply, SocketFlags.None, received.RemoteEndPoint, _stop.Token);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException)
            {
                // A client went away (ICMP unreachable); keep serving the others.
            }
        }
    }

    private async Task TcpLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket connection;
            try
            {
                connection = await _tcp.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            _tcpConnections[connection] = ServeTcpAsync(connection);
        }
    }

    private async Task ServeTcpAsync(Socket connection)
    {
        await Task.Yield();
        try
        {
            byte[] length = new byte[2];
            while (true)
            {
                // Each message is preceded by its length (RFC 1035 section 4.2.2).
                if (!await ReadExactlyAsync(connection, length))
                {
                    return;
                }

                byte[] query = new byte[BinaryPrimitives.ReadUInt16BigEndian(length)];
                if (!await ReadExactlyAsync(connection, query))
                {
                    return;
                }

                byte[]? reply = Respond(query, udp: false);
                if (reply is null)
                {
                    continue; // Dropped: keep the connection open and silent.
                }

                byte[] framed = new byte[reply.Length + 2];
                BinaryPrimitives.WriteUInt16BigEndian(framed, (ushort)reply.Length);
                reply.CopyTo(framed, 2);
                await connection.SendAsync(framed, SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            // The client or the server closed.
        }
        finally
        {
            _tcpConnections.TryRemove(connection, out _);
            connection.Dispose();
        }
    }

    private async Task<bool> ReadExactlyAsync(Socket connection, byte[] buffer)
    {
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await connection.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, _stop.Token);
            if (n == 0)
            {
                return false;
            }

            read += n;
        }

        return true;
    }

    private sealed record Zone(Mode Mode, IPAddress[] Addresses, int TtlSeconds);
}

using System.Net;
using System.Text;
using FProxy.ProxyProtocol;
using static FProxy.Tests.ProxyProtocol.ProxyHeaders;

namespace FProxy.Tests.ProxyProtocol;

/// <summary>The PROXY protocol parser: strict, never throwing, and what the writer writes it reads back.</summary>
internal sealed class ProxyHeaderParserTests
{
    private static readonly byte[] Payload = "GET / HTTP/1.1\r\n"u8.ToArray();

    [TestCase("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n", "192.0.2.1:56324", "198.51.100.2:443")]
    [TestCase("PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n", "[2001:db8::1]:65535", "[2001:db8::2]:0")]
    [TestCase("PROXY TCP6 ::ffff:192.0.2.1 2001:db8::2 1 2\r\n", "[::ffff:192.0.2.1]:1", "[2001:db8::2]:2")]
    public void V1_Valid_ReadsAddressesAndLeavesTheRest(string line, string source, string destination)
    {
        var data = Encoding.ASCII.GetBytes(line).Concat(Payload).ToArray();
        var status = ProxyHeaderParser.TryParse(data, out var header, out var consumed, out var reason);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(ProxyParseStatus.Done), reason);
            Assert.That(header.Version, Is.EqualTo(1));
            Assert.That(header.Command, Is.EqualTo(ProxyCommand.Proxy));
            Assert.That(header.Source, Is.EqualTo(IPEndPoint.Parse(source)));
            Assert.That(header.Destination, Is.EqualTo(IPEndPoint.Parse(destination)));
            Assert.That(data[consumed..], Is.EqualTo(Payload), "the client's bytes after the header are kept");
        });
    }

    [TestCase("PROXY UNKNOWN\r\n")]
    [TestCase("PROXY UNKNOWN ffff::1 ffff::2 1 2 and anything\r\n")]
    public void V1_Unknown_KeepsTheConnectionsAddresses(string line)
    {
        var status = ProxyHeaderParser.TryParse(Encoding.ASCII.GetBytes(line), out var header, out var consumed, out _);
        Assert.That(status, Is.EqualTo(ProxyParseStatus.Done));
        Assert.That(header.HasAddresses, Is.False);
        Assert.That(consumed, Is.EqualTo(line.Length));
    }

    [TestCase("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\n", "CR LF")]
    [TestCase("PROXY TCP4  192.0.2.1 198.51.100.2 56324 443\r\n", "four fields")]
    [TestCase("PROXY TCP4 192.0.2.1 198.51.100.2 56324\r\n", "four fields")]
    [TestCase("PROXY TCP4 192.0.2.1 198.51.100.2 56324 443 1\r\n", "four fields")]
    [TestCase("PROXY TCP4 2001:db8::1 198.51.100.2 1 2\r\n", "not IPv4")]
    [TestCase("PROXY TCP4 192.0.2 198.51.100.2 1 2\r\n", "not IPv4")]
    [TestCase("PROXY TCP6 192.0.2.1 2001:db8::2 1 2\r\n", "not IPv6")]
    [TestCase("PROXY TCP6 fe80::1%2 2001:db8::2 1 2\r\n", "not IPv6")]
    [TestCase("PROXY TCP4 192.0.2.1 198.51.100.2 65536 443\r\n", "port")]
    [TestCase("PROXY TCP4 192.0.2.1 198.51.100.2 0443 443\r\n", "port")]
    [TestCase("PROXY TCP4 192.0.2.1 198.51.100.2 -1 443\r\n", "port")]
    [TestCase("PROXY UDP4 192.0.2.1 198.51.100.2 1 2\r\n", "protocol")]
    [TestCase("PROXY tcp4 192.0.2.1 198.51.100.2 1 2\r\n", "protocol")]
    [TestCase("PROXY TCP4 192.0.2.1\u0001198.51.100.2 1 2\r\n", "printable")]
    [TestCase("GET / HTTP/1.1\r\n", "not a PROXY protocol header")]
    [TestCase("PROXZ TCP4\r\n", "not a PROXY protocol header")]
    public void V1_Malformed_IsInvalidWithAReason(string line, string expected)
    {
        var status = ProxyHeaderParser.TryParse(Encoding.Latin1.GetBytes(line), out _, out _, out var reason);
        Assert.That(status, Is.EqualTo(ProxyParseStatus.Invalid));
        Assert.That(reason, Does.Contain(expected));
    }

    [Test]
    public void V1_WithoutCrLfWithin107Bytes_IsInvalid()
    {
        var line = "PROXY UNKNOWN " + new string('x', 93);
        Assert.That(line, Has.Length.EqualTo(107));
        Assert.That(ProxyHeaderParser.TryParse(Encoding.ASCII.GetBytes(line), out _, out _, out var reason), Is.EqualTo(ProxyParseStatus.Invalid));
        Assert.That(reason, Does.Contain("107"));
        Assert.That(ProxyHeaderParser.TryParse(Encoding.ASCII.GetBytes(line[..106]), out _, out _, out _), Is.EqualTo(ProxyParseStatus.NeedMoreData));
    }

    [TestCase(0x11, "192.0.2.1", "198.51.100.2")]
    [TestCase(0x21, "2001:db8::1", "2001:db8::2")]
    public void V2_Proxy_ReadsAddressesSkipsTlvsAndLeavesTheRest(byte family, string source, string destination)
    {
        var tlvs = new byte[] { 0x04, 0x00, 0x03, 1, 2, 3 }; // A NOOP TLV.
        var header = V2(0x21, family, [.. Addresses(source, destination, 1234, 443), .. tlvs]);
        var data = header.Concat(Payload).ToArray();
        var status = ProxyHeaderParser.TryParse(data, out var parsed, out var consumed, out var reason);
        Assert.Multiple(() =>
        {
            Assert.That(status, Is.EqualTo(ProxyParseStatus.Done), reason);
            Assert.That(parsed.Version, Is.EqualTo(2));
            Assert.That(parsed.Source, Is.EqualTo(new IPEndPoint(IPAddress.Parse(source), 1234)));
            Assert.That(parsed.Destination, Is.EqualTo(new IPEndPoint(IPAddress.Parse(destination), 443)));
            Assert.That(data[consumed..], Is.EqualTo(Payload));
        });
    }

    [TestCase(0x20, 0x11, "LOCAL")]
    [TestCase(0x21, 0x00, "UNSPEC")]
    [TestCase(0x21, 0x12, "UDP over IPv4")]
    [TestCase(0x21, 0x22, "UDP over IPv6")]
    [TestCase(0x21, 0x31, "UNIX stream")]
    public void V2_LocalUnspecUdpOrUnix_KeepsTheConnectionsAddresses(byte versionCommand, byte family, string what)
    {
        var length = family switch { 0x11 or 0x12 => 12, 0x21 or 0x22 => 36, 0x31 => 216, _ => 0 };
        var status = ProxyHeaderParser.TryParse(V2(versionCommand, family, new byte[length]), out var header, out var consumed, out var reason);
        Assert.That(status, Is.EqualTo(ProxyParseStatus.Done), $"{what}: {reason}");
        Assert.That(header.HasAddresses, Is.False, what);
        Assert.That(consumed, Is.EqualTo(16 + length));
    }

    [TestCase(0x11, 0x11, 12, "version other than 2")]
    [TestCase(0x22, 0x11, 12, "unknown command")]
    [TestCase(0x21, 0x41, 12, "unknown address family")]
    [TestCase(0x21, 0x13, 12, "unknown address family or protocol")]
    [TestCase(0x21, 0x11, 11, "too short for its address family")]
    [TestCase(0x21, 0x21, 12, "too short for its address family")]
    [TestCase(0x21, 0x11, 4097, "longer than 4,096")]
    public void V2_Malformed_IsInvalidWithAReason(byte versionCommand, byte family, int length, string expected)
    {
        var header = V2(versionCommand, family, new byte[Math.Min(length, 16)], declaredLength: length);
        Assert.That(ProxyHeaderParser.TryParse(header, out _, out _, out var reason), Is.EqualTo(ProxyParseStatus.Invalid));
        Assert.That(reason, Does.Contain(expected));
    }

    [Test]
    public void EveryTruncationOfAValidHeader_NeedsMoreData()
    {
        foreach (var header in ValidHeaders())
        {
            for (var length = 0; length < header.Length; length++)
            {
                var status = ProxyHeaderParser.TryParse(header.AsSpan(0, length), out _, out _, out var reason);
                Assert.That(status, Is.EqualTo(ProxyParseStatus.NeedMoreData), $"{Show(header)} cut at {length}: {reason}");
            }

            Assert.That(ProxyHeaderParser.TryParse(header, out _, out var consumed, out _), Is.EqualTo(ProxyParseStatus.Done));
            Assert.That(consumed, Is.EqualTo(header.Length));
        }
    }

    [Test]
    public void MappedAddresses_GoOutAsIPv4()
    {
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        var length = ProxyHeaderWriter.Write(buffer, 1, IPEndPoint.Parse("[::ffff:192.0.2.1]:5"), IPEndPoint.Parse("[::ffff:198.51.100.2]:443"));
        Assert.That(Encoding.ASCII.GetString(buffer, 0, length), Is.EqualTo("PROXY TCP4 192.0.2.1 198.51.100.2 5 443\r\n"));
        length = ProxyHeaderWriter.Write(buffer, 2, IPEndPoint.Parse("[::ffff:192.0.2.1]:5"), IPEndPoint.Parse("198.51.100.2:443"));
        Assert.That(buffer[13], Is.EqualTo(0x11), "TCP over IPv4");
        Assert.That(length, Is.EqualTo(28));
    }

    [Test]
    public void LocalHeaders_ParseAsLocal()
    {
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        foreach (var version in new[] { 1, 2 })
        {
            var length = ProxyHeaderWriter.WriteLocal(buffer, version);
            Assert.That(ProxyHeaderParser.TryParse(buffer.AsSpan(0, length), out var header, out var consumed, out _), Is.EqualTo(ProxyParseStatus.Done));
            Assert.That(header.HasAddresses, Is.False);
            Assert.That(consumed, Is.EqualTo(length));
        }
    }

    [Test]
    public void ParsingALocalHeaderAndWritingAny_AllocateNothing()
    {
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        var local = V2(0x20, 0x00, []);
        var source = IPEndPoint.Parse("[2001:db8::1]:1234");
        var destination = IPEndPoint.Parse("[2001:db8::2]:443");
        for (var warm = 0; warm < 3; warm++)
        {
            _ = ProxyHeaderParser.TryParse(local, out _, out _, out _);
            _ = ProxyHeaderWriter.Write(buffer, 1, source, destination);
            _ = ProxyHeaderWriter.Write(buffer, 2, source, destination);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            _ = ProxyHeaderParser.TryParse(local, out _, out _, out _);
            _ = ProxyHeaderWriter.Write(buffer, 1, source, destination);
            _ = ProxyHeaderWriter.Write(buffer, 2, source, destination);
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    [Test]
    public void ParsingAddressHeaders_AllocatesNothing()
    {
        // The addresses stay values until something asks for an IPEndPoint.
        byte[][] headers =
        [
            "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"u8.ToArray(),
            V2(0x21, 0x11, Addresses("192.0.2.1", "198.51.100.2", 1, 2)),
            V2(0x21, 0x21, [.. Addresses("2001:db8::1", "2001:db8::2", 1, 2), 0x04, 0x00, 0x01, 0x00]),
        ];
        foreach (var header in headers)
        {
            _ = ProxyHeaderParser.TryParse(header, out _, out _, out _);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            foreach (var header in headers)
            {
                _ = ProxyHeaderParser.TryParse(header, out _, out _, out _);
            }
        }

        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);
    }

    private static IEnumerable<byte[]> ValidHeaders()
    {
        yield return "PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n"u8.ToArray();
        yield return "PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n"u8.ToArray();
        yield return "PROXY UNKNOWN\r\n"u8.ToArray();
        yield return V2(0x21, 0x11, Addresses("192.0.2.1", "198.51.100.2", 1, 2));
        yield return V2(0x21, 0x21, [.. Addresses("2001:db8::1", "2001:db8::2", 1, 2), 0x04, 0x00, 0x01, 0x00]);
        yield return V2(0x20, 0x00, []);
    }

    private static string Show(byte[] data) => Encoding.Latin1.GetString(data).Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
}

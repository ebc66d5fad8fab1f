using System.Net;
using System.Text;
using CsCheck;
using FProxy.ProxyProtocol;
using FProxy.Tests.ProxyProtocol;

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// <see cref="ProxyHeaderParser"/> on any bytes: never throws, stays within its input, never takes
/// a decision back when more bytes arrive, and reads back every header the writer writes.
/// </summary>
[Category("Fuzz")]
internal sealed class ProxyHeaderFuzzTests
{
    private const string Target = "proxy";

    /// <summary>What a mutation splices in: v1 keywords and separators, v2 signature, commands, families and lengths.</summary>
    private static readonly byte[][] Tokens =
        [.. new[] { "PROXY ", "TCP4 ", "TCP6 ", "UNKNOWN", " ", "\r\n", "\n", "\r", ":", ".", "0", "65535", "65536", "::ffff:", "%" }.Select(Encoding.ASCII.GetBytes),
         [.. ProxyHeaderParser.V2Signature], [0x20], [0x21], [0x11], [0x21, 0x21], [0x31], [0x00, 0x00], [0x10, 0x00], [0x10, 0x01], [0xFF, 0xFF], [0x00, 0x0C]];

    /// <summary>Headers the writer makes, from any two endpoints (IPv4, IPv6 with zeros everywhere "::" may fall, IPv4-mapped), maybe with the client's bytes after them.</summary>
    private static readonly Gen<Case> FromWriter =
        Gen.Select(Gen.Int[1, 2], EndPoint(), EndPoint(), Gen.Byte.Array[0, 8], Gen.Int[0, int.MaxValue], static (version, source, destination, payload, cut) =>
        {
            var buffer = new byte[ProxyHeaderWriter.MaxLength];
            var length = ProxyHeaderWriter.Write(buffer, version, source, destination);
            byte[] data = [.. buffer.AsSpan(0, length), .. payload];
            return new Case(data, cut % (data.Length + 1), new Written(version, source, destination, length));
        });

    /// <summary>v1 lines assembled from fields parsers get wrong: leading zeros, scopes, brackets, odd ports and separators, missing or extra fields.</summary>
    private static readonly Gen<Case> V1 =
        Gen.Select(
            Gen.OneOf("TCP4", "TCP6", "UNKNOWN", "UDP4", "tcp4", "TCP4 ", "", "UNKNOWNX"),
            Gen.OneOf("192.0.2.1", "2001:db8::1", "1.2.3.04", "01.2.3.4", "::ffff:1.2.3.4", "fe80::1%2", "[::1]", "1.2.3", "256.1.1.1", "",
                "0", "443", "65535", "65536", "0443", "-1", "+1", "::", "1:2:3:4:5:6:7:8", "1::2::3", "\u0001", "\u00ff").Array[0, 6],
            Gen.OneOf(" ", "  ", "\t"),
            Gen.OneOf("\r\n", "\n", "\r", string.Empty, "\r\r\n"),
            Gen.Int[0, int.MaxValue],
            static (protocol, fields, separator, end, cut) =>
            {
                var data = Encoding.Latin1.GetBytes($"PROXY {protocol}{(fields.Length > 0 ? separator : string.Empty)}{string.Join(separator, fields)}{end}GET");
                return new Case(data, cut % (data.Length + 1), null);
            });

    /// <summary>v2 headers with any command, family and declared length over a body of any length.</summary>
    private static readonly Gen<Case> V2 =
        Gen.Select(
            Gen.OneOf<byte>(0x20, 0x21, 0x22, 0x11, 0x2F, 0x01),
            Gen.OneOf<byte>(0x00, 0x11, 0x12, 0x21, 0x22, 0x31, 0x32, 0x13, 0x41, 0x10),
            Gen.Frequency((1, Gen.Const(static () => (int?)null)), (2, Gen.OneOf<int?>(0, 11, 12, 35, 36, 215, 216, 4096, 4097, 65535))),
            Gen.Byte.Array[0, 300],
            Gen.Int[0, int.MaxValue],
            static (versionCommand, family, declared, body, cut) =>
            {
                var data = ProxyHeaders.V2(versionCommand, family, body, declared);
                return new Case(data, cut % (data.Length + 1), null);
            });

    /// <summary>Random bytes, a quarter of them starting as a v1 or v2 header would.</summary>
    private static readonly Gen<Case> Random =
        Gen.Select(Gen.Byte.Array[0, 300], Gen.Int[0, 7], Gen.Int[0, int.MaxValue], static (data, start, cut) =>
        {
            if (data.Length > 0 && start < 2)
            {
                data[0] = start == 0 ? (byte)'P' : (byte)0x0D;
            }

            return new Case(data, cut % (data.Length + 1), null);
        });

    [Test]
    public void TryParse_AnyBytes_StaysWithinAndDecidesOnce()
    {
        var mutated = Gen.Select(Mutations<byte>.Of(Corpus.Bytes(Target), Tokens, Gen.Byte), Gen.Int[0, int.MaxValue],
            static (data, cut) => new Case(data, cut % (data.Length + 1), null));
        Fuzz.Check(Target, Gen.Frequency((2, FromWriter), (2, V1), (2, V2), (1, Random), (3, mutated)), Check, iterations: 100_000, print: static c => c.ToString());
    }

    [Test]
    public void TryParse_EveryTruncationOfTheCorpus_DecidesOnce() =>
        Fuzz.Each(Target, Corpus.Bytes(Target).SelectMany(static data => Enumerable.Range(0, data.Length + 1).Select(cut => new Case(data, cut, null))),
            Check, static c => c.ToString());

    private static void Check(Case c)
    {
        var status = ProxyHeaderParser.TryParse(c.Data, out var header, out var consumed, out var reason);
        switch (status)
        {
            case ProxyParseStatus.Done:
                FuzzFinding.Require(consumed >= 1 && consumed <= c.Data.Length && reason is null, $"Done with {consumed} of {c.Data.Length} bytes consumed, reason {reason}");
                FuzzFinding.Require(header.Version is 1 or 2 && (header.Source is null) == (header.Destination is null), $"Done with {header}");
                FuzzFinding.Require(!header.HasAddresses || header.Command == ProxyCommand.Proxy, $"addresses with the {header.Command} command");
                FuzzFinding.Require(consumed <= (header.Version == 1 ? ProxyHeaderParser.MaxV1Length : ProxyHeaderParser.V2FixedLength + ProxyHeaderParser.MaxV2Payload), $"a v{header.Version} header of {consumed} bytes");
                break;
            case ProxyParseStatus.NeedMoreData:
                FuzzFinding.Require(consumed == 0 && reason is null && header == default, $"NeedMoreData with {consumed} consumed, reason {reason}, {header}");
                break;
            case ProxyParseStatus.Invalid:
                FuzzFinding.Require(consumed == 0 && !string.IsNullOrEmpty(reason), $"Invalid with {consumed} consumed and reason \"{reason}\"");
                break;
            default:
                throw new FuzzFinding($"status {status}");
        }

        // A decision stands: once the first bytes are a header or are not one, more bytes change nothing.
        var prefix = ProxyHeaderParser.TryParse(c.Data.AsSpan(0, c.Cut), out var prefixHeader, out var prefixConsumed, out var prefixReason);
        FuzzFinding.Require(prefix == ProxyParseStatus.NeedMoreData || (prefix == status && prefixHeader == header && prefixConsumed == consumed),
            $"the first {c.Cut} bytes: {prefix} {prefixHeader} {prefixConsumed} ({prefixReason}); all: {status} {header} {consumed} ({reason})");

        if (c.Written is { } written)
        {
            FuzzFinding.Require(status == ProxyParseStatus.Done && consumed == written.Length, $"a written header: {status} ({reason}), {consumed} of {written.Length} bytes");
            FuzzFinding.Require(header.Addresses == ProxyAddresses.From(written.Source, written.Destination), $"read back as {header.Source} {header.Destination}");
            if (written.Version == 1 && IsPlainIPv6(written.Source.Address) && IsPlainIPv6(written.Destination.Address))
            {
                var line = $"PROXY TCP6 {written.Source.Address} {written.Destination.Address} {written.Source.Port} {written.Destination.Port}\r\n";
                FuzzFinding.Require(Encoding.ASCII.GetString(c.Data, 0, written.Length) == line, $"v1 IPv6 not in the runtime's canonical text: {line}");
            }
        }
    }

    /// <summary>IPv6 that the runtime writes without a dotted quad (neither IPv4-mapped nor -compatible) and without a scope.</summary>
    private static bool IsPlainIPv6(IPAddress address) =>
        address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && (address.GetAddressBytes()[0] & 0x20) != 0 && address.ScopeId == 0;

    /// <summary>IPv4, IPv6 with mostly zero groups (so "::" falls everywhere), or IPv4-mapped IPv6, and any port.</summary>
    private static Gen<IPEndPoint> EndPoint() =>
        Gen.Select(Gen.Int[0, 2], Gen.Byte.Array[16], Gen.Int[0, 65535], static (kind, bytes, port) =>
        {
            if (kind == 0)
            {
                return new IPEndPoint(new IPAddress(bytes[..4]), port);
            }

            if (kind == 2)
            {
                Array.Clear(bytes, 0, 10);
                bytes[10] = 0xFF;
                bytes[11] = 0xFF;
                return new IPEndPoint(new IPAddress(bytes), port);
            }

            for (var g = 0; g < 8; g++)
            {
                if (bytes[2 * g] % 3 != 0)
                {
                    bytes[2 * g] = 0;
                    bytes[(2 * g) + 1] = 0;
                }
            }

            bytes[0] |= 0x20; // Never mapped or compatible: the runtime writes those with a dotted quad.
            return new IPEndPoint(new IPAddress(bytes), port);
        });

    /// <summary>A header as written, to read back.</summary>
    private sealed record Written(int Version, IPEndPoint Source, IPEndPoint Destination, int Length);

    /// <summary>Bytes to parse, whole and cut at <paramref name="Cut"/>; the header they start with when the writer made them.</summary>
    private sealed record Case(byte[] Data, int Cut, Written? Written)
    {
        public override string ToString() =>
            $"{FuzzPrint.Bytes(Data)} (\"{Encoding.Latin1.GetString(Data).ReplaceLineEndings("|")}\"), cut at {Cut}" + (Written is null ? string.Empty : $", written {Written}");
    }
}

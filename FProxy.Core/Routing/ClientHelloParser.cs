using System.Buffers;
using System.Text;
using CommunityToolkit.HighPerformance.Buffers;

namespace FProxy.Routing;

/// <summary>
/// Reads the SNI host name from the first bytes a client sent (RFC 8446 4.1.2, RFC 6066 3),
/// without consuming them: the proxy forwards the same bytes to whichever backend the name picks.
/// </summary>
/// <remarks>
/// Stateless: each call parses from the start of <c>data</c>, so a caller that got
/// <see cref="SniParseResult.NeedMoreData"/> reads more and calls again with the whole buffer.
/// Every length is checked against the length that encloses it as soon as it is read, so a
/// malformed hello is rejected before its bytes arrive, and a non-TLS first byte is rejected alone.
/// The whole ClientHello is walked (not just up to server_name) so that a truncated or corrupt
/// tail never yields <see cref="SniParseResult.Found"/>. Never throws, and allocates nothing once a
/// name has been seen: names come from a bounded <see cref="StringPool"/>, since clients of one
/// service send the same few names on every connection. It deliberately does not look at ECH, ALPN or anything past the ClientHello.
/// </remarks>
internal static class ClientHelloParser
{
    /// <summary>
    /// The most input examined, record headers included. A ClientHello is a few hundred bytes, up
    /// to ~2 KB with post-quantum key shares; anything larger is not a hello worth waiting for.
    /// </summary>
    internal const int MaxExamined = 16 * 1024;

    // DNS names are at most 253 characters; 255 leaves room for a trailing dot we pass through.
    private const int MaxHostNameLength = 255;
    private const byte ContentTypeHandshake = 22;
    private const byte HandshakeTypeClientHello = 1;
    private const ushort ExtensionServerName = 0;
    private const byte NameTypeHostName = 0;

    /// <summary>Parses the start of a client's byte stream as a TLS ClientHello.</summary>
    /// <param name="data">Everything the client has sent so far (not consumed).</param>
    /// <param name="serverName">The host name in lower case when the result is <see cref="SniParseResult.Found"/>; otherwise null.</param>
    /// <returns>What the bytes are; see <see cref="SniParseResult"/>.</returns>
    public static SniParseResult TryReadServerName(in ReadOnlySequence<byte> data, out string? serverName)
    {
        serverName = null;
        Span<byte> name = stackalloc byte[MaxHostNameLength];
        var reader = new HandshakeReader(data);
        var result = Parse(ref reader, name, out var nameLength);
        if (result == SniParseResult.Found)
        {
            serverName = StringPool.Shared.GetOrAdd(name[..nameLength], Encoding.ASCII);
        }

        return result;
    }

    private static SniParseResult Parse(ref HandshakeReader reader, scoped Span<byte> name, out int nameLength)
    {
        nameLength = 0;

        // Handshake header: type (1), length (3).
        var step = reader.ReadByte(out var handshakeType);
        if (step != Step.Ok)
        {
            return ToResult(step);
        }

        if (handshakeType != HandshakeTypeClientHello)
        {
            return SniParseResult.NotTls;
        }

        if ((step = reader.ReadUInt24(out var bodyLength)) != Step.Ok)
        {
            return ToResult(step);
        }

        if (bodyLength > MaxExamined)
        {
            return SniParseResult.NotTls;
        }

        // Remaining bytes of the ClientHello body; every inner length must fit in it.
        var left = bodyLength;

        // legacy_version (2): 3.x. random (32).
        if ((step = reader.ReadByte(out var major)) != Step.Ok)
        {
            return ToResult(step);
        }

        if (major != 3 || left < 2 + 32 + 1)
        {
            return SniParseResult.NotTls;
        }

        if ((step = reader.Skip(1 + 32)) != Step.Ok)
        {
            return ToResult(step);
        }

        left -= 2 + 32;

        // legacy_session_id <0..32>.
        if ((step = ReadVector8(ref reader, ref left, 0, 32)) != Step.Ok)
        {
            return ToResult(step);
        }

        // cipher_suites <2..2^16-2>, two bytes each.
        if ((step = reader.ReadUInt16(out var suitesLength)) != Step.Ok)
        {
            return ToResult(step);
        }

        if (suitesLength < 2 || (suitesLength & 1) != 0 || 2 + suitesLength > left)
        {
            return SniParseResult.NotTls;
        }

        if ((step = reader.Skip(suitesLength)) != Step.Ok)
        {
            return ToResult(step);
        }

        left -= 2 + suitesLength;

        // legacy_compression_methods <1..2^8-1>.
        if ((step = ReadVector8(ref reader, ref left, 1, 255)) != Step.Ok)
        {
            return ToResult(step);
        }

        // Extensions are optional before TLS 1.3: a hello that ends here has no SNI.
        if (left == 0)
        {
            return SniParseResult.NoServerName;
        }

        if ((step = reader.ReadUInt16(out var extensionsLength)) != Step.Ok)
        {
            return ToResult(step);
        }

        if (2 + extensionsLength != left)
        {
            return SniParseResult.NotTls;
        }

        left = extensionsLength;
        var found = false;
        while (left > 0)
        {
            if (left < 4)
            {
                return SniParseResult.NotTls;
            }

            if ((step = reader.ReadUInt16(out var extensionType)) != Step.Ok ||
                (step = reader.ReadUInt16(out var extensionLength)) != Step.Ok)
            {
                return ToResult(step);
            }

            left -= 4;
            if (extensionLength > left)
            {
                return SniParseResult.NotTls;
            }

            left -= extensionLength;
            if (extensionType == ExtensionServerName && !found)
            {
                step = ReadServerNameExtension(ref reader, extensionLength, name, ref found, out nameLength);
            }
            else
            {
                // A second server_name is a protocol error (RFC 8446 4.2) but harmless to skip.
                step = reader.Skip(extensionLength);
            }

            if (step != Step.Ok)
            {
                return ToResult(step);
            }
        }

        return found ? SniParseResult.Found : SniParseResult.NoServerName;
    }

    /// <summary>Reads a ServerNameList (RFC 6066 3), keeping the first host_name.</summary>
    private static Step ReadServerNameExtension(ref HandshakeReader reader, int extensionLength, scoped Span<byte> name, ref bool found, out int nameLength)
    {
        nameLength = 0;

        // An empty server_name is how a server acknowledges SNI; a client should not send one, but
        // it carries no name rather than a malformed one, so it reads as "no SNI".
        if (extensionLength == 0)
        {
            return Step.Ok;
        }

        var step = reader.ReadUInt16(out var listLength);
        if (step != Step.Ok)
        {
            return step;
        }

        if (2 + listLength != extensionLength || listLength == 0)
        {
            return Step.NotTls;
        }

        var left = listLength;
        while (left > 0)
        {
            if (left < 3)
            {
                return Step.NotTls;
            }

            if ((step = reader.ReadByte(out var nameType)) != Step.Ok ||
                (step = reader.ReadUInt16(out var length)) != Step.Ok)
            {
                return step;
            }

            left -= 3;
            if (length > left || length == 0)
            {
                return Step.NotTls;
            }

            left -= length;
            if (nameType != NameTypeHostName || found)
            {
                if ((step = reader.Skip(length)) != Step.Ok)
                {
                    return step;
                }

                continue;
            }

            if (length > name.Length)
            {
                return Step.NotTls;
            }

            for (var i = 0; i < length; i++)
            {
                if ((step = reader.ReadByte(out var c)) != Step.Ok)
                {
                    return step;
                }

                // HostName is ASCII (RFC 6066 3); anything else is not a name we could route on.
                if (c is <= 0x20 or >= 0x7F)
                {
                    return Step.NotTls;
                }

                name[i] = c is >= (byte)'A' and <= (byte)'Z' ? (byte)(c | 0x20) : c;
            }

            nameLength = length;
            found = true;
        }

        return Step.Ok;
    }

    /// <summary>Skips a vector with a one-byte length in [min, max] that must fit in <paramref name="left"/>.</summary>
    private static Step ReadVector8(ref HandshakeReader reader, ref int left, int min, int max)
    {
        var step = reader.ReadByte(out var length);
        if (step != Step.Ok)
        {
            return step;
        }

        if (length < min || length > max || 1 + length > left)
        {
            return Step.NotTls;
        }

        left -= 1 + length;
        return reader.Skip(length);
    }

    private static SniParseResult ToResult(Step step) =>
        step == Step.NeedMoreData ? SniParseResult.NeedMoreData : SniParseResult.NotTls;

    private enum Step
    {
        Ok,
        NeedMoreData,
        NotTls,
    }

    /// <summary>
    /// Reads the handshake byte stream out of TLS records, crossing record boundaries (a hello may
    /// be fragmented over several records, RFC 8446 5.1) and sequence segments alike.
    /// </summary>
    private ref struct HandshakeReader
    {
        // TLSPlaintext.length must not exceed 2^14 (RFC 8446 5.1).
        private const int MaxRecordLength = 16 * 1024;

        private SequenceReader<byte> _reader;
        private int _recordLeft;

        public HandshakeReader(in ReadOnlySequence<byte> data)
        {
            _reader = new SequenceReader<byte>(data);
            _recordLeft = 0;
        }

        public Step ReadByte(out byte value)
        {
            value = 0;
            if (_recordLeft == 0)
            {
                var step = ReadRecordHeader();
                if (step != Step.Ok)
                {
                    return step;
                }
            }

            if (!_reader.TryRead(out value))
            {
                return Step.NeedMoreData;
            }

            _recordLeft--;
            return Step.Ok;
        }

        public Step ReadUInt16(out int value)
        {
            value = 0;
            Step step;
            if ((step = ReadByte(out var high)) != Step.Ok || (step = ReadByte(out var low)) != Step.Ok)
            {
                return step;
            }

            value = (high << 8) | low;
            return Step.Ok;
        }

        public Step ReadUInt24(out int value)
        {
            value = 0;
            var step = ReadByte(out var high);
            if (step != Step.Ok || (step = ReadUInt16(out var low)) != Step.Ok)
            {
                return step;
            }

            value = (high << 16) | low;
            return Step.Ok;
        }

        public Step Skip(int count)
        {
            while (count > 0)
            {
                if (_recordLeft == 0)
                {
                    var step = ReadRecordHeader();
                    if (step != Step.Ok)
                    {
                        return step;
                    }
                }

                var available = (int)Math.Min(_reader.Remaining, Math.Min(count, _recordLeft));
                if (available == 0)
                {
                    return Step.NeedMoreData;
                }

                _reader.Advance(available);
                _recordLeft -= available;
                count -= available;
            }

            return Step.Ok;
        }

        /// <summary>
        /// Reads a record header byte by byte, so that the first wrong byte decides NotTls even when
        /// it is all that has arrived (an HTTP client's 'G' is rejected alone).
        /// </summary>
        private Step ReadRecordHeader()
        {
            if (!_reader.TryRead(out var contentType))
            {
                return Step.NeedMoreData;
            }

            if (contentType != ContentTypeHandshake)
            {
                return Step.NotTls;
            }

            // legacy_record_version: 3.0 (SSL 3) to 3.4; clients send 3.1 for compatibility.
            if (!_reader.TryRead(out var major))
            {
                return Step.NeedMoreData;
            }

            if (major != 3)
            {
                return Step.NotTls;
            }

            if (!_reader.TryRead(out var minor))
            {
                return Step.NeedMoreData;
            }

            if (minor > 4)
            {
                return Step.NotTls;
            }

            if (!_reader.TryReadBigEndian(out short length))
            {
                return Step.NeedMoreData;
            }

            // Empty handshake records are forbidden (RFC 8446 5.1).
            if (length <= 0 || length > MaxRecordLength || _reader.Consumed + length > MaxExamined)
            {
                return Step.NotTls;
            }

            _recordLeft = length;
            return Step.Ok;
        }
    }
}

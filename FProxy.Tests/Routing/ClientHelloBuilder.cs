using System.Buffers.Binary;
using System.Text;

namespace FProxy.Tests.Routing;

/// <summary>
/// Builds a TLS 1.3-style ClientHello (legacy_version 3.3, a 32-byte session id, supported_versions)
/// in one or more handshake records, with extensions before and after server_name so that a
/// parser has to walk past them.
/// </summary>
internal static class ClientHelloBuilder
{
    /// <summary>Builds the whole client flight: record header(s) and the handshake message.</summary>
    /// <param name="serverName">The host_name to send, or null for no server_name extension.</param>
    /// <param name="splitAt">Handshake-message offsets at which to start a new TLS record.</param>
    public static byte[] Build(string? serverName, params int[] splitAt) =>
        WrapInRecords(BuildHandshake(serverName), splitAt);

    /// <summary>The handshake message alone (type 1, 24-bit length, ClientHello body).</summary>
    public static byte[] BuildHandshake(string? serverName, int paddingLength = 0)
    {
        var body = new List<byte>();
        body.AddRange([0x03, 0x03]);
        body.AddRange(Enumerable.Range(0, 32).Select(i => (byte)i));
        body.Add(32);
        body.AddRange(Enumerable.Range(0, 32).Select(i => (byte)(0xE0 + i)));
        body.AddRange([0x00, 0x06, 0x13, 0x01, 0x13, 0x02, 0xC0, 0x2F]);
        body.AddRange([0x01, 0x00]);

        var extensions = new List<byte>();
        AddExtension(extensions, 0x000A, [0x00, 0x04, 0x00, 0x1D, 0x00, 0x17]); // supported_groups
        AddExtension(extensions, 0x0017, []); // extended_master_secret
        AddExtension(extensions, 0x000D, [0x00, 0x04, 0x04, 0x03, 0x08, 0x04]); // signature_algorithms
        if (serverName is not null)
        {
            var name = Encoding.ASCII.GetBytes(serverName);
            var sni = new List<byte>();
            AddUInt16(sni, name.Length + 3);
            sni.Add(0); // host_name
            AddUInt16(sni, name.Length);
            sni.AddRange(name);
            AddExtension(extensions, 0x0000, [.. sni]);
        }

        AddExtension(extensions, 0x002B, [0x04, 0x03, 0x04, 0x03, 0x03]); // supported_versions
        if (paddingLength > 0)
        {
            AddExtension(extensions, 0x0015, new byte[paddingLength]); // padding
        }

        AddUInt16(body, extensions.Count);
        body.AddRange(extensions);

        var message = new List<byte> { 0x01, (byte)(body.Count >> 16), (byte)(body.Count >> 8), (byte)body.Count };
        message.AddRange(body);
        return [.. message];
    }

    /// <summary>Wraps a handshake message in records, starting a new one at each offset in <paramref name="splitAt"/>.</summary>
    public static byte[] WrapInRecords(byte[] handshake, params int[] splitAt)
    {
        var output = new List<byte>();
        var start = 0;
        foreach (var end in splitAt.Append(handshake.Length))
        {
            output.AddRange([0x16, 0x03, 0x01]);
            AddUInt16(output, end - start);
            output.AddRange(handshake[start..end]);
            start = end;
        }

        return [.. output];
    }

    /// <summary>Overwrites a big-endian 16-bit field.</summary>
    public static void WriteUInt16(byte[] bytes, int offset, int value) =>
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(offset), (ushort)value);

    private static void AddExtension(List<byte> output, int type, byte[] data)
    {
        AddUInt16(output, type);
        AddUInt16(output, data.Length);
        output.AddRange(data);
    }

    private static void AddUInt16(List<byte> output, int value)
    {
        output.Add((byte)(value >> 8));
        output.Add((byte)value);
    }
}

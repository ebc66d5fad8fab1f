using System.Net;
using FProxy.ProxyProtocol;

namespace FProxy.Tests.ProxyProtocol;

/// <summary>PROXY protocol v2 headers built by hand, for the parser's tests and its fuzz tests.</summary>
internal static class ProxyHeaders
{
    /// <summary>The signature, <paramref name="versionCommand"/>, <paramref name="family"/>, a length (the body's unless given) and the body.</summary>
    public static byte[] V2(byte versionCommand, byte family, byte[] body, int? declaredLength = null)
    {
        var length = declaredLength ?? body.Length;
        return [.. ProxyHeaderParser.V2Signature, versionCommand, family, (byte)(length >> 8), (byte)length, .. body];
    }

    /// <summary>The address part of a v2 header: both addresses, then both ports.</summary>
    public static byte[] Addresses(string source, string destination, int sourcePort, int destinationPort) =>
        [.. IPAddress.Parse(source).GetAddressBytes(), .. IPAddress.Parse(destination).GetAddressBytes(),
         (byte)(sourcePort >> 8), (byte)sourcePort, (byte)(destinationPort >> 8), (byte)destinationPort];
}

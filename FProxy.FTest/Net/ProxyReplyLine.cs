using FProxy.ProxyProtocol;

namespace FProxy.FTest.Net;

/// <summary>
/// The line a <c>ftest echo --proxy-protocol</c> backend answers a header with, before anything
/// else: <c>PROXY 192.0.2.1:5000 -&gt; 127.0.0.1:9001\n</c>, or <c>PROXY LOCAL\n</c> for a header
/// without a client's addresses. The clients find it at the start of a reply and set it aside,
/// so the echo after it is checked as usual and the line is shown for what it is.
/// </summary>
internal static class ProxyReplyLine
{
    /// <summary>Returned by <see cref="Find"/> while the bytes so far do not tell.</summary>
    public const int NeedMoreData = -1;

    /// <summary>
    /// The longest line looked for, LF included: two bracketed IPv6 addresses with ports and the
    /// words around them take at most 117 bytes. A longer "PROXY " start is not this line.
    /// </summary>
    public const int MaxLength = 128;

    private static ReadOnlySpan<byte> Prefix => "PROXY "u8;

    /// <summary>The line for a parsed header, LF included.</summary>
    public static string Format(ProxyHeader header) => $"PROXY {Describe(header)}\n";

    /// <summary>What a header says, as "192.0.2.1:5000 -&gt; 127.0.0.1:9001" (IPv6 in brackets) or "LOCAL".</summary>
    public static string Describe(ProxyHeader header) =>
        header is { Source: { } source, Destination: { } destination } ? $"{EchoBackend.Format(source)} -> {EchoBackend.Format(destination)}" : "LOCAL";

    /// <summary>
    /// How long the line at the start of <paramref name="received"/> is: its length with the LF,
    /// 0 when the reply does not start with one, or <see cref="NeedMoreData"/>.
    /// </summary>
    /// <param name="received">The reply's bytes so far.</param>
    /// <param name="expected">The reply expected after any line. When it starts like the line
    /// itself ("PROXY ", or "PRO" that came back whole) the two cannot be told apart, and the
    /// reply is taken as it is.</param>
    public static int Find(ReadOnlySpan<byte> received, ReadOnlySpan<byte> expected)
    {
        if (expected.StartsWith(Prefix))
        {
            return 0;
        }

        var known = Math.Min(received.Length, Prefix.Length);
        if (!received[..known].SequenceEqual(Prefix[..known]))
        {
            return 0;
        }

        if (known < Prefix.Length)
        {
            // "PRO" so far: the start of a line, or a whole expected reply that starts that way.
            return received.Length >= expected.Length && received[..expected.Length].SequenceEqual(expected) ? 0 : NeedMoreData;
        }

        var end = received[..Math.Min(received.Length, MaxLength)].IndexOf((byte)'\n');
        return end >= 0 ? end + 1 : received.Length >= MaxLength ? 0 : NeedMoreData;
    }
}

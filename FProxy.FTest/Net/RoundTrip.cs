using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FProxy.ProxyProtocol;

namespace FProxy.FTest.Net;

/// <summary>
/// Connects, sends (after a PROXY protocol header when asked), reads a reply of a known length,
/// closes. Every socket error and the timeout become a <see cref="Failure"/> value; only the
/// caller's cancellation throws. This is where every command's connections are made, so the
/// header is written here and nowhere else.
/// </summary>
internal static class RoundTrip
{
    /// <param name="endPoint">Where to connect.</param>
    /// <param name="proxy">The PROXY protocol header to start with, or null for none.</param>
    /// <param name="data">What to send.</param>
    /// <param name="expected">The reply expected: its length is how many bytes make the whole
    /// reply. The caller compares; here it only tells a target's "PROXY ..." line
    /// (<see cref="ProxyReplyLine"/>) from an echo that starts the same way.</param>
    /// <param name="timeout">Budget for the whole round trip, connect included.</param>
    /// <param name="ct">The caller's cancellation.</param>
    public static async Task<RoundTripResult> RunAsync(
        IPEndPoint endPoint, ProxyClaim? proxy, ReadOnlyMemory<byte> data, ReadOnlyMemory<byte> expected, TimeSpan timeout, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        TimeSpan dial = default, write = default;
        var replyLength = expected.Length;
        var received = new byte[ProxyReplyLine.MaxLength + replyLength];
        var read = 0;
        var line = ProxyReplyLine.NeedMoreData;
        ProxyHeader? sent = null;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        budget.CancelAfter(timeout);
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Failure? failure = null;
        try
        {
            await socket.ConnectAsync(endPoint, budget.Token).ConfigureAwait(false);
            dial = Stopwatch.GetElapsedTime(start);
            if (proxy is not null)
            {
                var header = proxy.Header((IPEndPoint)socket.LocalEndPoint!, (IPEndPoint)socket.RemoteEndPoint!, out var what);
                sent = what;
                await SendAllAsync(socket, header, budget.Token).ConfigureAwait(false);
            }

            await SendAllAsync(socket, data, budget.Token).ConfigureAwait(false);
            write = Stopwatch.GetElapsedTime(start) - dial;

            // Until the start of the reply tells whether it is a "PROXY ..." line, read what
            // comes (a line and the reply fit); then no further than the reply's end.
            while (line < 0 || read - line < replyLength)
            {
                var room = line < 0 ? received.Length - read : line + replyLength - read;
                var n = await socket.ReceiveAsync(received.AsMemory(read, room), SocketFlags.None, budget.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    failure = new Failure(FailureKind.Closed, $"connection closed after {ReplyBytes(read, line, replyLength)} of {replyLength} reply bytes");
                    break;
                }

                read += n;
                if (line < 0)
                {
                    line = ProxyReplyLine.Find(received.AsSpan(0, read), expected.Span);
                }
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            var step = dial == default ? "connecting" : $"waiting for the reply ({ReplyBytes(read, line, replyLength)} of {replyLength} bytes)";
            failure = new Failure(FailureKind.Timeout, $"timed out after {Durations.Format(timeout)} {step}");
        }
        catch (SocketException e)
        {
            failure = Failures.From(e);
        }

        var total = Stopwatch.GetElapsedTime(start);
        var readTime = dial == default ? TimeSpan.Zero : total - dial - write;
        var skip = Math.Max(line, 0);
        var reply = received[skip..(skip + ReplyBytes(read, line, replyLength))];
        var proxyLine = line > 0 ? received[..(line - 1)] : null;
        return new RoundTripResult(reply, dial, write, readTime, total, failure) { Sent = sent, ProxyLine = proxyLine };
    }

    /// <summary>How many of the bytes read are the reply's: those after a line, or all while undecided.</summary>
    private static int ReplyBytes(int read, int line, int replyLength) => Math.Min(read - Math.Max(line, 0), replyLength);

    private static async Task SendAllAsync(Socket socket, ReadOnlyMemory<byte> bytes, CancellationToken ct)
    {
        var sent = 0;
        while (sent < bytes.Length)
        {
            sent += await socket.SendAsync(bytes[sent..], SocketFlags.None, ct).ConfigureAwait(false);
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FProxy.FTest.Net;

/// <summary>
/// Connects, sends, reads a reply of a known length, closes. Every socket error and the timeout
/// become a <see cref="Failure"/> value; only the caller's cancellation throws.
/// </summary>
internal static class RoundTrip
{
    /// <param name="endPoint">Where to connect.</param>
    /// <param name="data">What to send.</param>
    /// <param name="replyLength">How many bytes make the whole reply.</param>
    /// <param name="timeout">Budget for the whole round trip, connect included.</param>
    /// <param name="ct">The caller's cancellation.</param>
    public static async Task<RoundTripResult> RunAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> data, int replyLength, TimeSpan timeout, CancellationToken ct)
    {
        var start = Stopwatch.GetTimestamp();
        TimeSpan dial = default, write = default;
        var reply = new byte[replyLength];
        var read = 0;
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(ct);
        budget.CancelAfter(timeout);
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Failure? failure = null;
        try
        {
            await socket.ConnectAsync(endPoint, budget.Token).ConfigureAwait(false);
            dial = Stopwatch.GetElapsedTime(start);
            var sent = 0;
            while (sent < data.Length)
            {
                sent += await socket.SendAsync(data[sent..], SocketFlags.None, budget.Token).ConfigureAwait(false);
            }

            write = Stopwatch.GetElapsedTime(start) - dial;
            while (read < replyLength)
            {
                var n = await socket.ReceiveAsync(reply.AsMemory(read), SocketFlags.None, budget.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    failure = new Failure(FailureKind.Closed, $"connection closed after {read} of {replyLength} reply bytes");
                    break;
                }

                read += n;
            }
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            var step = dial == default ? "connecting" : $"waiting for the reply ({read} of {replyLength} bytes)";
            failure = new Failure(FailureKind.Timeout, $"timed out after {Durations.Format(timeout)} {step}");
        }
        catch (SocketException e)
        {
            failure = Failures.From(e);
        }

        var total = Stopwatch.GetElapsedTime(start);
        var readTime = dial == default ? TimeSpan.Zero : total - dial - write;
        return new RoundTripResult(reply[..read], dial, write, readTime, total, failure);
    }
}

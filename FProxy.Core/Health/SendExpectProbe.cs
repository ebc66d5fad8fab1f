using System.Buffers;
using System.Net.Sockets;
using System.Text;
using FProxy.Configuration;

namespace FProxy.Health;

/// <summary>
/// Connects, sends <c>Send</c> (if set), and passes when the reply contains <c>Expect</c> (if set)
/// before the target closes or the probe times out. Reads at most <see cref="MaxReply"/> bytes:
/// a banner or a short reply is what such checks look for.
/// </summary>
internal sealed class SendExpectProbe : IHealthProbe
{
    private const int MaxReply = 16 * 1024;

    private readonly byte[] _send;
    private readonly byte[]? _expect;

    public SendExpectProbe(HealthCheckConfig config)
    {
        _send = config.Send is null ? [] : Encoding.UTF8.GetBytes(config.Send);
        _expect = config.Expect is null ? null : Encoding.UTF8.GetBytes(config.Expect);
    }

    public async ValueTask<HealthProbeResult> CheckAsync(HealthProbeContext context, CancellationToken cancellationToken)
    {
        using var socket = await context.ConnectAsync(cancellationToken).ConfigureAwait(false);
        if (_send.Length > 0)
        {
            await socket.SendAsync(_send, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }

        if (_expect is null)
        {
            return HealthProbeResult.Pass;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(MaxReply);
        try
        {
            var length = 0;
            while (length < MaxReply)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(length, MaxReply - length), SocketFlags.None, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return HealthProbeResult.Fail(Describe("the target closed the connection", buffer.AsSpan(0, length)));
                }

                // Search from where a match could start that includes the new bytes.
                var from = Math.Max(0, length - _expect.Length + 1);
                length += read;
                if (buffer.AsSpan(from, length - from).IndexOf(_expect) >= 0)
                {
                    return HealthProbeResult.Pass;
                }
            }

            return HealthProbeResult.Fail(Describe($"no match in the first {MaxReply} bytes", buffer.AsSpan(0, length)));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private string Describe(string what, ReadOnlySpan<byte> reply)
    {
        var shown = Encoding.UTF8.GetString(reply[..Math.Min(reply.Length, 40)]);
        return $"{what} before \"{Encoding.UTF8.GetString(_expect!)}\" arrived (got {reply.Length} byte(s): \"{shown.ReplaceLineEndings("\\n")}\")";
    }
}

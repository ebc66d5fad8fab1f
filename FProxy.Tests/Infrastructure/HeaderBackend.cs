using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FProxy.ProxyProtocol;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A loopback target that requires a PROXY protocol header, like nginx with <c>proxy_protocol</c>:
/// it records each connection's header and the bytes after it, optionally greets first (a
/// server that speaks first), then echoes. A connection without a valid header is recorded as
/// rejected and reset.
/// </summary>
internal sealed class HeaderBackend : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly byte[]? _greeting;

    public HeaderBackend(IPAddress? address = null, string? greeting = null)
    {
        address ??= IPAddress.Loopback;
        _greeting = greeting is null ? null : System.Text.Encoding.ASCII.GetBytes(greeting);
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(address, 0));
        _listener.Listen(128);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>How the config names this target.</summary>
    public string Target => EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{EndPoint.Address}]:{EndPoint.Port}" : $"{EndPoint.Address}:{EndPoint.Port}";

    /// <summary>The headers received, in order of arrival.</summary>
    public ConcurrentQueue<ProxyHeader> Headers { get; } = new();

    /// <summary>Why connections without a valid header were rejected.</summary>
    public ConcurrentQueue<string> Rejected { get; } = new();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptAsync(_stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(Socket client)
    {
        using var _ = client;
        try
        {
            if (_greeting is not null)
            {
                await client.SendAsync(_greeting, SocketFlags.None, _stop.Token);
            }

            var buffer = new byte[8192];
            var filled = 0;
            while (true)
            {
                var read = await client.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    Rejected.Enqueue("closed before a whole header");
                    return;
                }

                filled += read;
                var status = ProxyHeaderParser.TryParse(buffer.AsSpan(0, filled), out var header, out var consumed, out var reason);
                if (status == ProxyParseStatus.Invalid)
                {
                    Rejected.Enqueue(reason!);
                    client.LingerState = new LingerOption(true, 0);
                    return;
                }

                if (status == ProxyParseStatus.Done)
                {
                    Headers.Enqueue(header);
                    if (filled > consumed)
                    {
                        await client.SendAsync(buffer.AsMemory(consumed, filled - consumed), SocketFlags.None, _stop.Token);
                    }

                    break;
                }
            }

            while (true)
            {
                var read = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    client.Shutdown(SocketShutdown.Send);
                    return;
                }

                await client.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }
}

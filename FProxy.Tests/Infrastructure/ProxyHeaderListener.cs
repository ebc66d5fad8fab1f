using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using FProxy.ProxyProtocol;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A loopback target that expects a PROXY protocol header on every connection, like nginx with
/// <c>proxy_protocol</c> (for ftest's clients and for FProxy's own header): it keeps each header
/// (read by FProxy.Core's parser, not by the code under test), optionally greets first (a server
/// that speaks first) or answers with a fixed line after the header, then echoes what followed
/// the header. A connection that does not start with a header is counted and closed.
/// </summary>
internal sealed class ProxyHeaderListener : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<ProxyHeader> _headers = new();
    private readonly byte[]? _line;
    private readonly byte[]? _greeting;
    private readonly Task _acceptLoop;
    private int _accepted;
    private int _refused;

    public ProxyHeaderListener(IPAddress address, string? line = null, string? greeting = null)
    {
        _line = line is null ? null : System.Text.Encoding.ASCII.GetBytes(line);
        _greeting = greeting is null ? null : System.Text.Encoding.ASCII.GetBytes(greeting);
        _listener = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(address, 0));
        _listener.Listen(512);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>How ftest and the config name this target.</summary>
    public string Target => EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{EndPoint.Address}]:{EndPoint.Port}" : $"{EndPoint.Address}:{EndPoint.Port}";

    public IReadOnlyList<ProxyHeader> Headers => [.. _headers];

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections that did not start with a valid header.</summary>
    public int Refused => Volatile.Read(ref _refused);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _acceptLoop;
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        var connections = new List<Task>();
        try
        {
            while (true)
            {
                var client = await _listener.AcceptAsync(_stop.Token);
                Interlocked.Increment(ref _accepted);
                connections.Add(ServeAsync(client));
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // Stopping.
        }

        await Task.WhenAll(connections);
    }

    private async Task ServeAsync(Socket client)
    {
        using var connection = client;
        var buffer = new byte[8192];
        var read = 0;
        try
        {
            if (_greeting is not null)
            {
                await client.SendAsync(_greeting, SocketFlags.None, _stop.Token);
            }

            ProxyParseStatus status;
            ProxyHeader header = default;
            var consumed = 0;
            do
            {
                var n = await client.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, _stop.Token);
                read += n;
                status = n == 0 ? ProxyParseStatus.Invalid : ProxyHeaderParser.TryParse(buffer.AsSpan(0, read), out header, out consumed, out _);
            }
            while (status == ProxyParseStatus.NeedMoreData);

            if (status != ProxyParseStatus.Done)
            {
                Interlocked.Increment(ref _refused);
                return;
            }

            _headers.Enqueue(header);
            if (_line is not null)
            {
                await client.SendAsync(_line, SocketFlags.None, _stop.Token);
            }

            await client.SendAsync(buffer.AsMemory(consumed, read - consumed), SocketFlags.None, _stop.Token);
            int echoed;
            while ((echoed = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token)) > 0)
            {
                await client.SendAsync(buffer.AsMemory(0, echoed), SocketFlags.None, _stop.Token);
            }

            client.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // The client went away, or the test is over.
        }
    }
}

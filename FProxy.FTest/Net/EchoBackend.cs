using System.Net;
using System.Net.Sockets;
using FProxy.Configuration;
using FProxy.ProxyProtocol;

namespace FProxy.FTest.Net;

/// <summary>
/// A local TCP echo backend: optionally sends a greeting first, then echoes every byte; on the
/// client's FIN it half-closes too, so it behaves like a well-mannered service behind a proxy.
/// With the PROXY protocol on, each connection must start with a header (v1 or v2, read by
/// FProxy.Core's parser): the backend answers it with a line saying what it carried
/// (<see cref="ProxyReplyLine"/>), then the greeting, then echoes what followed the header. A
/// connection without a valid header within the timeout is reset, as FProxy resets one.
/// </summary>
internal sealed class EchoBackend : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly byte[]? _greeting;
    private readonly bool _proxyProtocol;
    private readonly TimeSpan _headerTimeout;
    private readonly TextWriter? _log;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _clients = [];
    private Task _acceptLoop = Task.CompletedTask;

    private EchoBackend(Socket listener, string? tag, bool proxyProtocol, TimeSpan headerTimeout, TextWriter? log)
    {
        _listener = listener;
        _proxyProtocol = proxyProtocol;
        _headerTimeout = headerTimeout;
        _log = log;
        EndPoint = (IPEndPoint)listener.LocalEndPoint!;
        Greeting = tag is null ? null : $"{tag}:{EndPoint.Port}\n";
        _greeting = Greeting is null ? null : Bytes.Of(Greeting);
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>The line sent on connect ("TAG:PORT\n"), or null for a pure echo.</summary>
    public string? Greeting { get; }

    /// <summary>Binds and starts accepting; a port in use or a bad address is a <see cref="ToolException"/>.</summary>
    /// <param name="bind">The address to listen on; <c>::</c> listens on IPv4 and IPv6.</param>
    /// <param name="port">The port; 0 picks a free one.</param>
    /// <param name="tag">Names the backend in a greeting line ("TAG:PORT\n") sent on connect, before any echo; null for a pure echo.</param>
    /// <param name="proxyProtocol">Each connection must start with a PROXY protocol header, answered with its line before the greeting.</param>
    /// <param name="log">Where each header read and each connection reset is reported, one line each; null for nowhere.</param>
    /// <param name="headerTimeout">How long a client may take to send its whole header: FProxy's own default when null.</param>
    public static EchoBackend Start(IPAddress bind, int port, string? tag, bool proxyProtocol = false, TextWriter? log = null, TimeSpan? headerTimeout = null)
    {
        var listener = new Socket(bind.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (bind.Equals(IPAddress.IPv6Any))
            {
                listener.DualMode = true;
            }

            listener.Bind(new IPEndPoint(bind, port));
            listener.Listen(1024);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            var why = e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "port already in use" : Failures.Describe(e.SocketErrorCode);
            throw new ToolException($"cannot listen on {Format(new IPEndPoint(bind, port))}: {why}");
        }

        var backend = new EchoBackend(listener, tag, proxyProtocol, headerTimeout ?? AppConfig.DefaultProxyProtocolTimeout, log);
        backend._acceptLoop = backend.AcceptLoopAsync();
        return backend;
    }

    public static string Format(IPEndPoint endPoint) =>
        endPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{endPoint.Address}]:{endPoint.Port}" : $"{endPoint.Address}:{endPoint.Port}";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
        lock (_clients)
        {
            foreach (var client in _clients)
            {
                client.Dispose();
            }

            _clients.Clear();
        }

        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            lock (_clients)
            {
                _clients.Add(client);
            }

            _ = EchoAsync(client);
        }
    }

    private async Task EchoAsync(Socket client)
    {
        var buffer = new byte[16 * 1024];
        var reset = false;
        try
        {
            client.NoDelay = true;
            var first = _greeting;
            var pending = ReadOnlyMemory<byte>.Empty;
            if (_proxyProtocol)
            {
                var (header, after, problem) = await ReadHeaderAsync(client, buffer).ConfigureAwait(false);
                if (problem is not null)
                {
                    Log(client, "reset: " + problem);
                    reset = true;
                    return;
                }

                Log(client, $"PROXY v{header.Version} {ProxyReplyLine.Describe(header)}");
                first = [.. Bytes.Of(ProxyReplyLine.Format(header)), .. _greeting ?? []];
                pending = buffer.AsMemory(after);
            }

            if (first is not null)
            {
                await client.SendAsync(first, SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }

            // The client's bytes that came in the same reads as its header are echoed first.
            if (!pending.IsEmpty)
            {
                await client.SendAsync(pending, SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }

            while (true)
            {
                var n = await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    client.Shutdown(SocketShutdown.Send);
                    return;
                }

                await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The client went away or we are stopping: either way this connection is over.
        }
        finally
        {
            lock (_clients)
            {
                _clients.Remove(client);
            }

            if (reset)
            {
                Reset(client);
            }

            client.Dispose();
        }
    }

    /// <summary>
    /// Reads until <paramref name="buffer"/> starts with a whole header. Returns it and where the
    /// client's own bytes read with it lie, or why there is none. The buffer holds the longest
    /// header (16 + 4,096 bytes) and more, and the parser refuses a longer one, so it never fills.
    /// </summary>
    private async Task<(ProxyHeader Header, Range After, string? Problem)> ReadHeaderAsync(Socket client, byte[] buffer)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        deadline.CancelAfter(_headerTimeout);
        var read = 0;
        try
        {
            while (true)
            {
                var n = await client.ReceiveAsync(buffer.AsMemory(read), SocketFlags.None, deadline.Token).ConfigureAwait(false);
                if (n == 0)
                {
                    return (default, default, read == 0 ? "closed before sending a PROXY header" : "closed in the middle of its PROXY header");
                }

                read += n;
                var status = ProxyHeaderParser.TryParse(buffer.AsSpan(0, read), out var header, out var consumed, out var reason);
                if (status == ProxyParseStatus.Done)
                {
                    return (header, consumed..read, null);
                }

                if (status == ProxyParseStatus.Invalid)
                {
                    return (default, default, reason);
                }
            }
        }
        catch (OperationCanceledException) when (!_stop.IsCancellationRequested)
        {
            return (default, default, $"no complete PROXY header within {Durations.Format(_headerTimeout)}");
        }
    }

    /// <summary>Linger 0: the close is a reset, so the client sees a refusal, not an empty reply.</summary>
    private static void Reset(Socket client)
    {
        try
        {
            client.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Reset by the client already, or closed by DisposeAsync: closed either way.
        }
    }

    /// <summary>One line about a connection: "127.0.0.1:9001: from 127.0.0.1:40312: ...".</summary>
    private void Log(Socket client, string message)
    {
        if (_log is not null && client.RemoteEndPoint is IPEndPoint peer)
        {
            _log.WriteLine($"{Format(EndPoint)}: from {Format(peer)}: {message}");
        }
    }
}

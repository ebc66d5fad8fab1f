using System.Net;
using System.Net.Sockets;

namespace FProxy.FTest.Net;

/// <summary>
/// A local TCP echo backend: optionally sends a greeting first, then echoes every byte; on the
/// client's FIN it half-closes too, so it behaves like a well-mannered service behind a proxy.
/// </summary>
internal sealed class EchoBackend : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly byte[]? _greeting;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _clients = [];
    private Task _acceptLoop = Task.CompletedTask;

    private EchoBackend(Socket listener, string? tag)
    {
        _listener = listener;
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
    public static EchoBackend Start(IPAddress bind, int port, string? tag)
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

        var backend = new EchoBackend(listener, tag);
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
        try
        {
            client.NoDelay = true;
            if (_greeting is not null)
            {
                await client.SendAsync(_greeting, SocketFlags.None, _stop.Token).ConfigureAwait(false);
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

            client.Dispose();
        }
    }
}

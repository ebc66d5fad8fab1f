using System.Net;
using System.Net.Sockets;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A loopback TCP relay to a server, which a test can cut (every connection reset, new ones
/// refused) or silence (connections stay open but nothing gets through, as in a partition), and
/// then restore. Stands between a client under test and a real server.
/// </summary>
internal sealed class TcpRelay : IAsyncDisposable
{
    private IPEndPoint _target;
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _open = [];
    private readonly Task _accepting;
    private volatile bool _cut;
    private volatile bool _silent;

    public TcpRelay(IPEndPoint target)
    {
        _target = target;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _accepting = AcceptAsync();
    }

    public IPEndPoint EndPoint { get; }

    public string Url => $"http://{EndPoint}";

    /// <summary>Relays new connections to <paramref name="target"/> from now on (a server replaced behind one address).</summary>
    public void Retarget(IPEndPoint target) => _target = target;

    /// <summary>Resets every relayed connection and refuses new ones (resets them at once).</summary>
    public void Cut()
    {
        _cut = true;
        CloseAll();
    }

    /// <summary>Keeps connections open but forwards nothing: a silent partition.</summary>
    public void Silence() => _silent = true;

    /// <summary>Relays again (connections cut stay closed; silenced ones are closed, so clients reconnect cleanly).</summary>
    public void Restore()
    {
        if (_silent)
        {
            CloseAll();
        }

        _cut = false;
        _silent = false;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        CloseAll();
        try
        {
            await _accepting;
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Stopped.
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptAsync(_stop.Token);
            if (_cut)
            {
                client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                continue;
            }

            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(_target, _stop.Token);
            }
            catch (SocketException)
            {
                client.LingerState = new LingerOption(true, 0);
                client.Dispose();
                server.Dispose();
                continue;
            }

            lock (_open)
            {
                _open.Add(client);
                _open.Add(server);
            }

            _ = PumpAsync(client, server);
            _ = PumpAsync(server, client);
        }
    }

    private async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                // Silenced: what arrives is dropped, as a partition would.
                if (!_silent)
                {
                    await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            from.Dispose();
            to.Dispose();
        }
    }

    private void CloseAll()
    {
        lock (_open)
        {
            foreach (var socket in _open)
            {
                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // Closed already.
                }

                socket.Dispose();
            }

            _open.Clear();
        }
    }
}

using System.Net;
using System.Net.Sockets;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A loopback backend for tests: echoes every byte back, and when the client half-closes it
/// half-closes too (so FIN propagation can be observed). Optionally greets each connection first,
/// or (<see cref="Resetting"/>) resets every connection as soon as it is accepted.
/// </summary>
internal sealed class EchoServer : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly List<Socket> _clients = [];
    private readonly byte[]? _greeting;
    private readonly bool _resetOnAccept;
    private int _accepted;
    private int _disposed;

    public EchoServer(IPAddress? address = null, string? greeting = null)
        : this(address, greeting, resetOnAccept: false)
    {
    }

    private EchoServer(IPAddress? address, string? greeting, bool resetOnAccept, int port = 0, Socket? listener = null)
    {
        _resetOnAccept = resetOnAccept;
        address ??= IPAddress.Loopback;
        _greeting = greeting is null ? null : System.Text.Encoding.ASCII.GetBytes(greeting);
        _listener = listener ?? new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        _listener.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Bind(new IPEndPoint(address, port));
        _listener.Listen(512);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>A backend that resets (linger 0) every connection right after accepting it.</summary>
    public static EchoServer Resetting() => new(null, null, resetOnAccept: true);

    /// <summary>A backend on a given loopback port: a test can stop one and start another in its place (a flapping target).</summary>
    public static EchoServer OnPort(int port, string? greeting = null) => new(IPAddress.Loopback, greeting, resetOnAccept: false, port);

    /// <summary>
    /// A loopback backend on an unbound IPv4 socket made elsewhere: a socket belongs to the network
    /// namespace it was made in (<see cref="NetworkNamespace.CreateSocket"/>), so the backend serves there.
    /// </summary>
    public static EchoServer On(Socket listener) => new(IPAddress.Loopback, null, resetOnAccept: false, listener: listener);

    public int Port => EndPoint.Port;

    /// <summary>How the config names this backend.</summary>
    public string Target => EndPoint.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{EndPoint.Address}]:{Port}" : $"{EndPoint.Address}:{Port}";

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Connections accepted and not closed yet (by either side).</summary>
    public int Open
    {
        get
        {
            lock (_clients)
            {
                return _clients.Count;
            }
        }
    }

    /// <summary>Resets every open connection (linger 0), to inject target resets.</summary>
    public void ResetAll()
    {
        lock (_clients)
        {
            foreach (var c in _clients)
            {
                Reset(c);
            }

            _clients.Clear();
        }
    }

    /// <summary>Stops the backend; a second call does nothing (tests stop a backend on purpose, then dispose it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        _listener.Dispose();
        try
        {
            await _acceptLoop;
        }
        catch (OperationCanceledException)
        {
        }

        ResetAll();
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            Interlocked.Increment(ref _accepted);
            if (_resetOnAccept)
            {
                Reset(client);
                continue;
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
        var buffer = new byte[64 * 1024];
        try
        {
            if (_greeting is not null)
            {
                await client.SendAsync(_greeting, SocketFlags.None);
            }

            while (true)
            {
                var n = await client.ReceiveAsync(buffer, SocketFlags.None);
                if (n == 0)
                {
                    client.Shutdown(SocketShutdown.Send);
                    break;
                }

                await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
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

    private static void Reset(Socket socket)
    {
        try
        {
            socket.LingerState = new LingerOption(true, 0);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        socket.Dispose();
    }
}

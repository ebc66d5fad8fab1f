using System.Buffers;
using System.Net;
using System.Net.Sockets;

namespace FProxy.Benchmarks.Infrastructure;

/// <summary>
/// A loopback echo server inside the benchmark process: echoes every byte, half-closes after the
/// client's FIN, then closes. Kept lean (pooled buffers, no bookkeeping) because the memory
/// diagnoser counts the whole process's allocations, this server's included.
/// </summary>
internal sealed class EchoBackend : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Task _acceptLoop;
    private readonly byte[]? _greeting;

    /// <summary>Listens on a loopback port.</summary>
    /// <param name="greeting">A byte sent first on every connection, before the echo (which of several backends a connection reached); none by default.</param>
    public EchoBackend(byte? greeting = null)
    {
        _greeting = greeting is { } tag ? [tag] : null;
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4096);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _acceptLoop = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>"127.0.0.1:port", as a config names it.</summary>
    public string Target => EndPoint.ToString();

    public async ValueTask DisposeAsync()
    {
        _listener.Dispose();
        await _acceptLoop.ConfigureAwait(false);
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                return;
            }

            client.NoDelay = true;
            _ = EchoAsync(client, _greeting);
        }
    }

    private static async Task EchoAsync(Socket client, byte[]? greeting)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            if (greeting is not null)
            {
                await client.SendAsync(greeting, SocketFlags.None).ConfigureAwait(false);
            }

            while (true)
            {
                var n = await client.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false);
                if (n == 0)
                {
                    client.Shutdown(SocketShutdown.Send);
                    break;
                }

                await client.SendAsync(buffer.AsMemory(0, n), SocketFlags.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client reset: nothing to echo any more.
        }
        finally
        {
            client.Dispose();
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

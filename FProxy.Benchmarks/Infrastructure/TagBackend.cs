using System.Net;
using System.Net.Sockets;

namespace FProxy.Benchmarks.Infrastructure;

/// <summary>A loopback server that answers every connection with one byte, its tag, and closes: which target a connection reached.</summary>
internal sealed class TagBackend : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly Task _acceptLoop;
    private readonly byte[] _tag;

    public TagBackend(byte tag)
    {
        _tag = [tag];
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(4096);
        Target = ((IPEndPoint)_listener.LocalEndPoint!).ToString();
        _acceptLoop = AcceptLoopAsync();
    }

    /// <summary>"127.0.0.1:port", as a config names it.</summary>
    public string Target { get; }

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

            using (client)
            {
                try
                {
                    await client.SendAsync(_tag, SocketFlags.None).ConfigureAwait(false);
                    client.Shutdown(SocketShutdown.Send);
                }
                catch (SocketException)
                {
                    // The client left first.
                }
            }
        }
    }
}

using System.Buffers;
using System.Net;
using System.Net.Sockets;
using FProxy.Daemon;
using FProxy.Transport;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A transport accepting on a loopback socket of its own, for tests of what the shared connection
/// logic sees (<see cref="TransportConnection"/>) without a daemon: each <see cref="AcceptAsync"/>
/// connects a test client and returns it with the transport's connection for it.
/// </summary>
internal sealed class TransportFixture : IAsyncDisposable
{
    private readonly Socket _listener;
    private readonly IAcceptor[] _acceptors;

    public TransportFixture(ProxyTransport? kind = null, TimeProvider? time = null, MemoryPool<byte>? pool = null)
    {
        Time = time ?? TimeProvider.System;
        Transport = TestTransport.Create(Time, pool, kind);
        _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(64);

        // The first acceptor is enough: each serves the connections it accepts on its own I/O
        // thread. Every one holds the socket until closed.
        _acceptors = Transport.CreateAcceptors(_listener);
    }

    public ITransport Transport { get; }

    public TimeProvider Time { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

    /// <summary>A deadline <paramref name="timeout"/> from now on the transport's clock.</summary>
    public long Deadline(TimeSpan timeout) => Time.GetTimestamp() + (long)(timeout.TotalSeconds * Time.TimestampFrequency);

    public async Task<(Socket Client, TransportConnection Connection)> AcceptAsync(CancellationToken ct)
    {
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        var accept = _acceptors[0].AcceptAsync().AsTask();
        await client.ConnectAsync(IPAddress.Loopback, Port, ct);
        var result = await accept.WaitAsync(ct);
        Assert.That(result.Succeeded, Is.True, result.Error.ToString());
        return (client, result.Connection!);
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_acceptors.Select(static a => a.CloseAsync()));
        _listener.Dispose();
        await Transport.DisposeAsync();
    }
}

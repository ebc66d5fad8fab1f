using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Microsoft.Extensions.ObjectPool;

namespace FProxy.Transport.Sockets;

/// <summary>
/// The portable transport: System.Net.Sockets with a System.IO.Pipelines pump per connection
/// (<see cref="DuplexPump"/>). Used where the epoll transport does not run, or when chosen.
/// </summary>
internal sealed class SocketTransport : ITransport
{
    private readonly ObjectPool<SocketConnection> _connections;

    public SocketTransport(TimeProvider time, MemoryPool<byte> blocks)
    {
        Time = time;
        var options = DuplexPump.CreatePipeOptions(blocks);

        // Pooled: building a connection's pump (two pipes, two SocketAsyncEventArgs) costs ~1.6 KB
        // and ~1.7 us; a pooled one 0 B and ~0.2 us (PumpPoolingBenchmarks, docs/benchmarks.md).
        _connections = new DefaultObjectPool<SocketConnection>(new Policy(this, options), maximumRetained: 1024);
    }

    public string Name => "sockets";

    internal TimeProvider Time { get; }

    public IAcceptor[] CreateAcceptors(Socket listening) => [new SocketAcceptor(listening, this)];

    /// <summary>Nothing to do here: each connection listens to its group's abort token itself.</summary>
    public void AbortAll(ConnectionGroup group)
    {
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    internal SocketConnection Rent(Socket client)
    {
        var connection = _connections.Get();
        connection.Begin(client);
        return connection;
    }

    internal void Return(SocketConnection connection) => _connections.Return(connection);

    private sealed class Policy(SocketTransport transport, PipeOptions options) : PooledObjectPolicy<SocketConnection>
    {
        public override SocketConnection Create() => new(transport, new DuplexPump(options));

        public override bool Return(SocketConnection obj) => true;
    }
}

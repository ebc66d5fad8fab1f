using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace FProxy.Transport.Linux;

/// <summary>
/// FProxy's own Linux transport: a few event loops on epoll, each serving the connections it
/// accepted from start to end, with system calls made directly. Built because the runtime's socket
/// engine cost about 60% more system calls per proxied connection than HAProxy (four fcntl, a poll
/// and a getsockopt per connect, an EAGAIN receive before every wait: docs/performance.md), and a
/// measured prototype of this design needed about half of HAProxy's CPU per connection.
/// </summary>
internal sealed class EpollTransport : ITransport
{
    private readonly EpollLoop[] _loops;

    public EpollTransport(int loops, TimeProvider time, MemoryPool<byte> blocks, PipeAllowance pipes, ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(loops, 1);
        _loops = new EpollLoop[loops];
        for (var i = 0; i < loops; i++)
        {
            _loops[i] = new EpollLoop(i, time, blocks, new PipePool(pipes), pipes.Max > 0, logger);
            _loops[i].Start();
        }

        Pipes = pipes;
    }

    /// <summary>epoll_event's layout is known for these; other architectures use the sockets transport.</summary>
    public static bool IsSupported =>
        OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.Arm64;

    public string Name => "epoll";

    internal PipeAllowance Pipes { get; }

    internal IReadOnlyList<EpollLoop> Loops => _loops;

    public IAcceptor[] CreateAcceptors(Socket listening)
    {
        listening.Blocking = false; // accept4 on it must never block a loop.
        var acceptors = new IAcceptor[_loops.Length];
        for (var i = 0; i < acceptors.Length; i++)
        {
            acceptors[i] = new EpollAcceptor(_loops[i], listening.SafeHandle);
        }

        return acceptors;
    }

    public void AbortAll(ConnectionGroup group)
    {
        foreach (var loop in _loops)
        {
            loop.Post(static s => AbortOnLoop(((EpollLoop, ConnectionGroup))s!), (loop, group));
        }
    }

    public ValueTask DisposeAsync()
    {
        foreach (var loop in _loops)
        {
            loop.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private static void AbortOnLoop((EpollLoop Loop, ConnectionGroup Group) work)
    {
        // Collect first: aborting completes pumps, whose continuations release (unlink) connections.
        List<EpollConnection>? doomed = null;
        for (var connection = work.Loop.Live; connection is not null; connection = connection.Next)
        {
            if (ReferenceEquals(connection.Group, work.Group))
            {
                (doomed ??= []).Add(connection);
            }
        }

        if (doomed is null)
        {
            return;
        }

        foreach (var connection in doomed)
        {
            connection.AbortOnLoop();
        }
    }
}

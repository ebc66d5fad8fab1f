using System.Net;
using System.Net.Sockets;
using FProxy.Routing;
using Microsoft.Extensions.Logging;

namespace FProxy.Transport;

/// <summary>
/// One listening socket (SO_REUSEADDR + SO_REUSEPORT) and its accept loops, one per I/O thread of
/// the transport (the socket is bound here, with the runtime's Socket, whatever the transport). New connections take
/// the route current at accept time, read through one volatile reference, so a reload that only
/// changes targets or settings swaps the route without rebinding.
/// </summary>
internal sealed class PortListener
{
    private static readonly TimeSpan MinAcceptBackoff = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxAcceptBackoff = TimeSpan.FromSeconds(1);

    private readonly Socket _socket;
    private readonly ConnectionHandler _handler;
    private readonly ITransport _transport;
    private readonly StarvationLog _starvation;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly List<ConnectionGroup> _groups = [];
    private readonly CancellationTokenSource _closing = new();
    private ConnectionGroup _current;
    private IAcceptor[] _acceptors = [];
    private Task _acceptLoops = Task.CompletedTask;
    private int _closed;
    private int _failed;

    private PortListener(Socket socket, int port, AppRoute route, ConnectionHandler handler, ITransport transport, TimeProvider time, ILogger logger)
    {
        _socket = socket;
        Port = port;
        _handler = handler;
        _transport = transport;
        _time = time;
        _logger = logger;
        _starvation = new StarvationLog(time);
        _current = new ConnectionGroup(route, time, handler.Series.For(route.Name, port), transport);
        _groups.Add(_current);
        LocalEndPoint = (IPEndPoint)socket.LocalEndPoint!;
    }

    public int Port { get; }

    /// <summary>Accept loops running (one per I/O thread); each holds a budget share while it waits for a client.</summary>
    internal int AcceptLoops => _acceptors.Length;

    /// <summary>
    /// Told when the accept loop ends without <see cref="Close"/> (the socket was closed from
    /// outside, or a bug), with the reason: the daemon then rebinds the port.
    /// </summary>
    public Action<PortListener, string>? Failed { get; set; }

    /// <summary>The listening socket, for tests that break it on purpose.</summary>
    internal Socket Socket => _socket;

    public IPEndPoint LocalEndPoint { get; }

    public AppRoute Route => Volatile.Read(ref _current).Route;

    /// <summary>Open connections across all routes this listener has served.</summary>
    public int ActiveConnections
    {
        get
        {
            lock (_groups)
            {
                return _groups.Sum(static g => g.Active);
            }
        }
    }

    /// <summary>Closes idle connections of every route this listener served (apps with an IdleTimeout).</summary>
    public void CloseIdle()
    {
        ConnectionGroup[] groups;
        lock (_groups)
        {
            groups = [.. _groups];
        }

        foreach (var group in groups)
        {
            group.CloseIdle(_time);
        }
    }

    /// <summary>Open connections of app <paramref name="app"/> (a port may have served several apps).</summary>
    public int ActiveConnectionsOf(string app)
    {
        lock (_groups)
        {
            return _groups.Where(g => string.Equals(g.Route.Name, app, StringComparison.Ordinal)).Sum(static g => g.Active);
        }
    }

    /// <summary>
    /// Binds and listens. <paramref name="route"/>'s Bind (null: "::" dual-stack, or 0.0.0.0
    /// where the OS has no IPv6) and Backlog decide the socket.
    /// </summary>
    /// <exception cref="SocketException">The port cannot be bound (taken, address not local...).</exception>
    public static PortListener Bind(int port, AppRoute route, ConnectionHandler handler, ITransport transport, TimeProvider time, ILogger logger)
    {
        var config = route.Config;
        var socket = config.Bind is { } address ? Open(address, port, config.Backlog) : OpenDefault(port, config.Backlog);
        try
        {
            SocketSetup.ConfigureConnection(socket, config.KeepAlive);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        return new PortListener(socket, port, route, handler, transport, time, logger);
    }

    public void Start()
    {
        DescriptorReserve.Fill();
        _acceptors = _transport.CreateAcceptors(_socket);
        _acceptLoops = Task.WhenAll(_acceptors.Select(AcceptLoopAsync));
    }

    /// <summary>New connections use <paramref name="route"/>; open ones keep theirs.</summary>
    public void SetRoute(AppRoute route)
    {
        if (!route.Config.KeepAlive.Equals(Route.Config.KeepAlive))
        {
            // Accepted sockets inherit TCP_NODELAY and keepalive from the listening socket, which
            // saves five setsockopt calls per connection. Connections already waiting in the
            // accept queue keep the settings they were created with.
            try
            {
                SocketSetup.ConfigureConnection(_socket, route.Config.KeepAlive);
            }
            catch (ObjectDisposedException)
            {
                // Closing concurrently: nothing will be accepted any more.
            }
        }

        var group = new ConnectionGroup(route, _time, _handler.Series.For(route.Name, Port), _transport);
        lock (_groups)
        {
            // Groups with no connection left have nothing to drain: forget them.
            // Not the group being replaced: the accept loop may have read it and be about to
            // enter it; it is pruned on a later reload once empty.
            var replaced = Volatile.Read(ref _current);
            _groups.RemoveAll(g => g.Active == 0 && !ReferenceEquals(g, replaced));
            _groups.Add(group);
        }

        Volatile.Write(ref _current, group);
    }

    /// <summary>
    /// Stops accepting at once, then drains: each route's connections may go on for its
    /// DrainTimeout, then are reset. Completes when none is left.
    /// </summary>
    /// <returns>How many connections were reset at a drain deadline.</returns>
    public async Task<int> CloseAndDrainAsync()
    {
        Close();
        await _acceptLoops.ConfigureAwait(false);
        ConnectionGroup[] groups;
        lock (_groups)
        {
            groups = [.. _groups];
        }

        var resets = await Task.WhenAll(groups.Select(static g => g.DrainAsync())).ConfigureAwait(false);
        return resets.Sum();
    }

    /// <summary>Stops accepting. Connections still in the kernel's accept queue are reset (see docs/operations.md).</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _closing.Cancel(); // Wakes an accept loop that is backing off.

            // Stop listening now (new clients are refused), even when the socket itself can only
            // be closed once the acceptors have let go of it below.
            try
            {
                _socket.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // Not listening any more (shut down or closed from outside): closing it is all that is left.
            }

            var released = _acceptors.Length == 0 ? Task.CompletedTask : Task.WhenAll(_acceptors.Select(static a => a.CloseAsync()));
            if (released.IsCompleted)
            {
                _socket.Dispose();
            }
            else
            {
                // An epoll acceptor lets go of the socket on its loop, and this may be that loop's
                // thread (supervision runs where the accept failed): close it once they all have.
                _ = released.ContinueWith(static (_, s) => ((Socket)s!).Dispose(), _socket, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }
        }
    }

    private static Socket OpenDefault(int port, int backlog)
    {
        if (Socket.OSSupportsIPv6)
        {
            try
            {
                return Open(IPAddress.IPv6Any, port, backlog);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.AddressFamilyNotSupported
                or SocketError.AddressNotAvailable or SocketError.ProtocolNotSupported)
            {
                // IPv6 is compiled in but not usable (disabled by sysctl, no ::): IPv4 only.
            }
        }

        return Open(IPAddress.Any, port, backlog);
    }

    private static Socket Open(IPAddress address, int port, int backlog)
    {
        var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            SocketSetup.EnableReusePort(socket);
            socket.Bind(new IPEndPoint(address, port));
            socket.Listen(backlog);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task AcceptLoopAsync(IAcceptor acceptor)
    {
        // Let Start() return before the first accept completes inline.
        await Task.Yield();
        string? failure;
        try
        {
            failure = await AcceptUntilClosedAsync(acceptor).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Whatever ends the loop is reported, so the port is rebound rather than silently lost.
        catch (Exception e)
#pragma warning restore CA1031
        {
            failure = $"accept loop failed: {e.GetType().Name}: {e.Message}";
        }

        // Reported once, by the first loop to fail: the daemon then closes the listener, which ends the others.
        if (failure is not null && Volatile.Read(ref _closed) == 0 && Interlocked.Exchange(ref _failed, 1) == 0)
        {
            Failed?.Invoke(this, failure);
        }
    }

    /// <summary>Accepts until closed; returns why it stopped when that was not <see cref="Close"/>.</summary>
    private async Task<string?> AcceptUntilClosedAsync(IAcceptor acceptor)
    {
        var budget = _handler.Budget;
        var starvation = _starvation;
        var backoff = MinAcceptBackoff;
        while (Volatile.Read(ref _closed) == 0)
        {
            if (starvation.Starved)
            {
                // Take the reserve back before accepting: a connection is only accepted when
                // there is room beyond it, so the runtime keeps its headroom.
                DescriptorReserve.Fill();
            }

            if (!budget.TryAcquire())
            {
                // At the descriptor budget: leave new clients in the kernel's queue until a
                // connection ends, rather than run the process out of descriptors. The end of a
                // connection wakes the loop, so clients wait for a share, not for a backoff.
                if (starvation.Fail())
                {
                    TransportLog.AcceptPaused(_logger, Port, budget.Active, budget.OpenFilesLimit);
                }

                try
                {
                    await budget.WhenReleasedAsync().WaitAsync(_closing.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            var result = await acceptor.AcceptAsync().ConfigureAwait(false);
            if (result.Connection is { } connection)
            {
                if (starvation.Starved)
                {
                    backoff = MinAcceptBackoff;
                    if (starvation.Recover(out var failures))
                    {
                        TransportLog.AcceptResumed(_logger, Port, failures);
                    }
                }

                var group = Volatile.Read(ref _current);
                group.Enter();
                _ = _handler.HandleAsync(connection, Port, group);
                continue;
            }

            budget.Release();
            var error = result.Error;
            if (Volatile.Read(ref _closed) != 0)
            {
                break;
            }

            if (error is SocketError.OperationAborted or SocketError.InvalidArgument or SocketError.NotSocket or SocketError.Shutdown)
            {
                // Not closed by us, yet the socket no longer listens (closed or shut down from outside).
                return $"the listening socket stopped working ({error})";
            }

            switch (error)
            {
                case SocketError.ConnectionAborted or SocketError.ConnectionReset:
                    continue; // The client gave up while queued: nothing to do.
                case SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable:
                    // EMFILE/ENFILE/ENOBUFS: the pending connection stays queued. Hand the
                    // reserve to the runtime, back off instead of spinning, log once per burst.
                    DescriptorReserve.Release();
                    if (starvation.Fail())
                    {
                        TransportLog.AcceptStarved(_logger, Port, error);
                    }

                    break;
                default:
                    _ = starvation.Fail();
                    TransportLog.AcceptFailed(_logger, Port, error);
                    break;
            }

            if (!await acceptor.DelayAsync(backoff).ConfigureAwait(false))
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxAcceptBackoff.Ticks));
        }

        return null;
    }
}

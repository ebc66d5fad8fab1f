using FProxy.Diagnostics;
using FProxy.Routing;

namespace FProxy.Transport;

/// <summary>
/// The open connections a listener accepted under one route. When the listener closes, each group
/// drains on its own route's DrainTimeout (a port that moved between apps keeps the old app's drain
/// rules for connections accepted before the move), then resets whatever is left.
/// </summary>
internal sealed class ConnectionGroup
{
    private readonly CancellationTokenSource _abort;
    private readonly TimeProvider _time;
    private readonly ITransport _transport;
    private readonly TaskCompletionSource _drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _active;
    private int _draining;
    private int _reset;

    private readonly HashSet<DuplexPump>? _pumps;

    public ConnectionGroup(AppRoute route, TimeProvider time, ConnectionCounters counters, ITransport transport)
    {
        Route = route;
        Counters = counters;
        _time = time;
        _abort = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);

        // One registration per group, not per connection: the transport finds the group's
        // connections itself (the epoll loops walk theirs; socket connections listen to the token).
        _abort.Token.UnsafeRegister(static s => ((ConnectionGroup)s!).AbortConnections(), this);
        _transport = transport;

        // Only apps with an IdleTimeout pay for tracking their pumps (a set insert and removal per connection).
        _pumps = route.Config.IdleTimeout is null ? null : [];
    }

    /// <summary>A group with counters of its own, not reported anywhere (tests).</summary>
    public ConnectionGroup(AppRoute route, TimeProvider time, int port, ITransport transport)
        : this(route, time, new ConnectionCounters(route.Name, port), transport)
    {
    }

    public AppRoute Route { get; }

    /// <summary>
    /// Where its connections are counted for metrics: the counters of the route's app on the
    /// listener's port, shared with the other groups of that app on that port.
    /// </summary>
    public ConnectionCounters Counters { get; }

    /// <summary>Follows <paramref name="pump"/> for idle timeouts (when the app has one) until <see cref="Forget"/>.</summary>
    public void Track(DuplexPump pump)
    {
        if (_pumps is not null)
        {
            // Stamped before the sweep can see it: a connection that is just starting must not be
            // judged by no stamp at all, nor by the last one of the connection that had this
            // pooled pump before.
            pump.Stamp(_time);
            lock (_pumps)
            {
                _pumps.Add(pump);
            }
        }
    }

    public void Forget(DuplexPump pump)
    {
        if (_pumps is not null)
        {
            lock (_pumps)
            {
                _pumps.Remove(pump);
            }
        }
    }

    /// <summary>Closes the connections that moved no byte for the app's IdleTimeout.</summary>
    public void CloseIdle(TimeProvider time)
    {
        if (_pumps is null || Route.Config.IdleTimeout is not { } timeout)
        {
            return;
        }

        var now = time.GetTimestamp();
        lock (_pumps)
        {
            // Under the lock: a pump is forgotten (and then returned to the pool) only after it
            // leaves this set, so the close can never reach the next connection to reuse it.
            // CloseIdle only shuts the sockets down; the loops end later, on the socket threads.
            foreach (var pump in _pumps)
            {
                if (pump.IsIdle(now, timeout))
                {
                    pump.CloseIdle();
                }
            }
        }
    }

    /// <summary>Cancelled when the drain deadline passes: every connection of the group resets.</summary>
    public CancellationToken AbortToken => _abort.Token;

    public int Active => Volatile.Read(ref _active);

    public void Enter() => Interlocked.Increment(ref _active);

    public void Exit()
    {
        if (Interlocked.Decrement(ref _active) == 0 && Volatile.Read(ref _draining) == 1)
        {
            _drained.TrySetResult();
        }
    }

    /// <summary>
    /// Waits for the group's connections to end, up to the route's DrainTimeout, then resets the
    /// rest and waits for them to go. Call only once no connection can enter any more (the
    /// listener's accept loop has ended).
    /// </summary>
    /// <returns>How many connections were still open at the deadline and were reset.</returns>
    public async Task<int> DrainAsync()
    {
        // A full fence (not a plain volatile write): Exit reads _draining after its decrement.
        Interlocked.Exchange(ref _draining, 1);
        if (Active == 0)
        {
            return 0;
        }

        // Registered after every connection's own abort callback, so (callbacks run last-first)
        // it counts them before any has reset.
        using (_abort.Token.UnsafeRegister(static s => ((ConnectionGroup)s!).CountReset(), this))
        {
            _abort.CancelAfter(Route.Config.DrainTimeout);
            await _drained.Task.ConfigureAwait(false);
        }

        return Volatile.Read(ref _reset);
    }

    /// <summary>Resets every connection of the group now.</summary>
    public void AbortAll() => _abort.Cancel();

    private void AbortConnections() => _transport.AbortAll(this);

    private void CountReset() => Volatile.Write(ref _reset, Active);
}

using System.Net.Sockets;
using FProxy.Routing;
using FProxy.Transport;
using Microsoft.Extensions.Logging;

namespace FProxy.Daemon;

/// <summary>
/// The daemon's listeners, one slot per configured port: binding with retries and backoff,
/// rerouting and rebinding on reloads, supervision (a listener whose accept loop died is drained
/// and its port bound again), drains, and the idle sweep. Changes come from the reconcile under the
/// daemon's gate; background retries and restarts take the same gate; readers (readiness, status,
/// metrics) take a snapshot under a lock of its own.
/// </summary>
internal sealed class ListenerSupervisor(
    ProxyDaemonOptions options,
    ConnectionHandler handler,
    ITransport transport,
    TimeProvider time,
    ILogger logger,
    SemaphoreSlim gate,
    Action<DaemonEventKind, string?, int?, string?, string> publish)
{
    private readonly Dictionary<int, PortSlot> _slots = [];
    private readonly HashSet<PortListener> _draining = [];
    private readonly List<Task> _tasks = [];
    private readonly Lock _sync = new(); // Guards the collections against readers off the gate.
    private bool _stopped;

    /// <summary>Ports that could not be bound in the rollout being applied (since <see cref="BeginRollout"/>).</summary>
    public int BindFailures { get; private set; }

    /// <summary>Open proxied connections, across every listener, including those draining.</summary>
    public int ActiveConnections
    {
        get
        {
            lock (_sync)
            {
                return _slots.Values.Sum(static s => s.Listener?.ActiveConnections ?? 0) + _draining.Sum(static l => l.ActiveConnections);
            }
        }
    }

    /// <summary>Ports that have a bound listener now.</summary>
    public IReadOnlyCollection<int> BoundPorts
    {
        get
        {
            lock (_sync)
            {
                return [.. _slots.Values.Where(static s => s.Listener is not null).Select(static s => s.Port).Order()];
            }
        }
    }

    /// <summary>A rollout starts: its bind failures are counted from zero. Under the gate.</summary>
    public void BeginRollout() => BindFailures = 0;

    /// <summary>The slots and the listeners still draining, now.</summary>
    public (PortSlot[] Slots, PortListener[] Draining) Snapshot()
    {
        lock (_sync)
        {
            return ([.. _slots.Values.OrderBy(static s => s.Port)], [.. _draining]);
        }
    }

    /// <summary>The listener of <paramref name="port"/>, for tests and diagnostics.</summary>
    public PortListener? GetListener(int port)
    {
        lock (_sync)
        {
            return _slots.TryGetValue(port, out var slot) ? slot.Listener : null;
        }
    }

    /// <summary>A new port: binds now, or retries in the background. Under the gate.</summary>
    public void Add(int port, AppRoute route)
    {
        var slot = new PortSlot(port, route);
        lock (_sync)
        {
            _slots[port] = slot;
        }

        BindOrRetry(slot);
    }

    /// <summary>A removed port: stops accepting at once; its connections drain. Under the gate.</summary>
    public void Remove(int port)
    {
        PortSlot slot;
        lock (_sync)
        {
            slot = _slots[port];
            _slots.Remove(port);
        }

        slot.Removed = true;
        slot.Retry?.Cancel();
        if (slot.Listener is { } listener)
        {
            Drain(listener, slot.Route.Name, announce: true);
        }
    }

    /// <summary>New connections take the new route at once; the socket and open connections stay. Under the gate.</summary>
    public void Reroute(int port, AppRoute route)
    {
        var slot = _slots[port];
        var old = slot.Route;
        slot.Route = route; // A bind still being retried uses it when it succeeds.
        slot.Listener?.SetRoute(route);
        if (!string.Equals(old.Name, route.Name, StringComparison.Ordinal))
        {
            DaemonLog.PortRerouted(logger, port, route.Name);
        }
    }

    /// <summary>Bind or Backlog changed: the new socket binds first, then the old one drains. Under the gate.</summary>
    public void Rebind(int port, AppRoute route)
    {
        var slot = _slots[port];
        slot.Route = route;
        if (slot.Listener is not { } listener)
        {
            return; // Still retrying its bind: the next attempt uses the new settings.
        }

        // New connections take the new route at once, even while the new socket is pending.
        listener.SetRoute(route);
        DaemonLog.PortRebinding(logger, route.Name, port);
        BindOrRetry(slot);
    }

    /// <summary>Closes connections past their app's IdleTimeout (the sweep's timer calls it).</summary>
    public void CloseIdleConnections()
    {
        PortListener[] listeners;
        lock (_sync)
        {
            listeners = [.. _slots.Values.Select(static s => s.Listener).OfType<PortListener>(), .. _draining];
        }

        foreach (var listener in listeners)
        {
            listener.CloseIdle();
        }
    }

    /// <summary>Keeps <paramref name="task"/> (a drain, a retry, a check) for <see cref="WhenIdleAsync"/>.</summary>
    public void Track(Task task)
    {
        lock (_sync)
        {
            _tasks.RemoveAll(static t => t.IsCompleted);
            _tasks.Add(task);
        }
    }

    /// <summary>Shutdown: every listener closes at once and drains; no retry binds again. Under the gate.</summary>
    public void CloseAll()
    {
        _stopped = true;
        PortSlot[] slots;
        lock (_sync)
        {
            slots = [.. _slots.Values];
            _slots.Clear();
        }

        foreach (var slot in slots)
        {
            slot.Removed = true;
            slot.Retry?.Cancel();
            slot.Listener?.Close();
        }

        foreach (var slot in slots)
        {
            if (slot.Listener is { } listener)
            {
                Drain(listener, slot.Route.Name, announce: false);
            }
        }
    }

    /// <summary>Completes when every tracked drain, retry and check has.</summary>
    public Task WhenIdleAsync(CancellationToken cancellationToken)
    {
        Task[] tasks;
        lock (_sync)
        {
            tasks = [.. _tasks];
        }

        return Task.WhenAll(tasks).WaitAsync(cancellationToken);
    }

    /// <summary>Binds now, or starts retrying in the background. Under the gate.</summary>
    private void BindOrRetry(PortSlot slot)
    {
        slot.Retry?.Cancel();
        slot.Retry = null;
        if (TryBind(slot, out var reason))
        {
            return;
        }

        DaemonLog.PortBindFailed(logger, slot.Route.Name, slot.Port, reason, (long)options.InitialBindRetryDelay.TotalMilliseconds);
        slot.Error = reason;
        BindFailures++;
        publish(DaemonEventKind.PortFailed, slot.Route.Name, slot.Port, null, $"{slot.Route.Name}: port {slot.Port} cannot be bound: {reason}; retrying");
        publish(DaemonEventKind.RolloutFailed, slot.Route.Name, slot.Port, null, $"{slot.Route.Name}: port {slot.Port} cannot be bound: {reason}");
        var retry = new CancellationTokenSource();
        slot.Retry = retry;
        Track(RetryBindAsync(slot, retry.Token));
    }

    private bool TryBind(PortSlot slot, out string reason)
    {
        PortListener listener;
        try
        {
            listener = PortListener.Bind(slot.Port, slot.Route, handler, transport, time, logger);
        }
        catch (SocketException e)
        {
            reason = e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? "address already in use (held by a socket without SO_REUSEPORT, or by another user)"
                : e.Message;
            return false;
        }
#pragma warning disable CA1031 // Whatever a bind throws, the port is retried like any that cannot be bound: the rest of the rollout stands.
        catch (Exception e)
#pragma warning restore CA1031
        {
            reason = $"{e.GetType().Name}: {e.Message}";
            return false;
        }

        var old = slot.Listener;
        listener.Failed = OnListenerFailed;
        try
        {
            listener.Start();
        }
#pragma warning disable CA1031 // As above: a listener that cannot start is closed and its port retried; nothing is left half-open.
        catch (Exception e)
#pragma warning restore CA1031
        {
            listener.Close(); // It accepted nothing: there is nothing to drain.
            reason = $"{e.GetType().Name}: {e.Message}";
            return false;
        }

        lock (_sync)
        {
            slot.Listener = listener;
            slot.Error = null;
        }

        publish(DaemonEventKind.PortBound, slot.Route.Name, slot.Port, null, $"{slot.Route.Name}: listening on {listener.LocalEndPoint}");
        DaemonLog.PortBound(logger, slot.Route.Name, listener.LocalEndPoint);
        if (old is not null)
        {
            // Rebind: the new socket is already accepting, so the old one can go.
            Drain(old, old.Route.Name, announce: true);
        }

        reason = string.Empty;
        return true;
    }

    /// <summary>
    /// Supervision: a listener whose accept loop died (its socket closed from outside, a bug) is
    /// drained like a removed one and its port rebound with the usual backoff; until then the
    /// port shows as unbound (readiness, status) and events say why.
    /// </summary>
    private void OnListenerFailed(PortListener listener, string reason) => Track(RestartAsync(listener, reason));

    private async Task RestartAsync(PortListener listener, string reason)
    {
        await gate.WaitAsync().ConfigureAwait(false);
        try
        {
            PortSlot? slot;
            lock (_sync)
            {
                slot = _slots.Values.FirstOrDefault(s => ReferenceEquals(s.Listener, listener));
            }

            if (slot is null || _stopped)
            {
                return; // Already replaced, removed, or shutting down.
            }

            lock (_sync)
            {
                slot.Listener = null;
                slot.Error = reason;
            }

            DaemonLog.ListenerFailed(logger, slot.Route.Name, slot.Port, reason, (long)options.InitialBindRetryDelay.TotalMilliseconds);
            publish(DaemonEventKind.PortFailed, slot.Route.Name, slot.Port, null, $"{slot.Route.Name}: port {slot.Port} listener failed: {reason}; rebinding");
            Drain(listener, slot.Route.Name, announce: false);
            slot.Retry?.Cancel();
            var retry = new CancellationTokenSource();
            slot.Retry = retry;
            Track(RetryBindAsync(slot, retry.Token));
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task RetryBindAsync(PortSlot slot, CancellationToken cancellationToken)
    {
        var delay = options.InitialBindRetryDelay;
        try
        {
            while (true)
            {
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
                await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    if (slot.Removed || _stopped)
                    {
                        return;
                    }

                    if (TryBind(slot, out var reason))
                    {
                        slot.Retry = null;
                        return;
                    }

                    slot.Error = reason;
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, options.MaxBindRetryDelay.Ticks));
                    DaemonLog.PortBindFailed(logger, slot.Route.Name, slot.Port, reason, (long)delay.TotalMilliseconds);
                }
                finally
                {
                    gate.Release();
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The port left the config, changed again, or the daemon stopped.
        }
    }

    private void Drain(PortListener listener, string app, bool announce)
    {
        listener.Close();
        var active = listener.ActiveConnections;
        if (announce)
        {
            DaemonLog.PortDraining(logger, app, listener.Port, active, (long)listener.Route.Config.DrainTimeout.TotalMilliseconds);
        }

        lock (_sync)
        {
            _draining.Add(listener);
        }

        Track(DrainAsync(listener));
    }

    private async Task DrainAsync(PortListener listener)
    {
        var reset = await listener.CloseAndDrainAsync().ConfigureAwait(false);
        lock (_sync)
        {
            _draining.Remove(listener);
        }

        if (reset > 0)
        {
            DaemonLog.DrainReset(logger, listener.Port, reset);
        }
    }
}

using System.Net.Sockets;
using FProxy.Transport;

namespace FProxy.Daemon;

/// <content>Listeners: binding with retries, supervision, drains, idle sweeps.</content>
public sealed partial class ProxyDaemon
{
    private void CloseIdleConnections()
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

    /// <summary>Binds now, or starts retrying in the background. Called under the gate.</summary>
    private void BindOrRetry(PortSlot slot)
    {
        slot.Retry?.Cancel();
        slot.Retry = null;
        if (TryBind(slot, out var reason))
        {
            return;
        }

        DaemonLog.PortBindFailed(_logger, slot.Route.Name, slot.Port, reason, (long)_options.InitialBindRetryDelay.TotalMilliseconds);
        slot.Error = reason;
        _bindFailures++;
        Publish(DaemonEventKind.PortFailed, slot.Route.Name, slot.Port, null, $"{slot.Route.Name}: port {slot.Port} cannot be bound: {reason}; retrying");
        Publish(DaemonEventKind.RolloutFailed, slot.Route.Name, slot.Port, null, $"{slot.Route.Name}: port {slot.Port} cannot be bound: {reason}");
        var retry = new CancellationTokenSource();
        slot.Retry = retry;
        Track(RetryBindAsync(slot, retry.Token));
    }

    private bool TryBind(PortSlot slot, out string reason)
    {
        PortListener listener;
        try
        {
            listener = PortListener.Bind(slot.Port, slot.Route, _handler, _transport, _time, _logger);
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

        Publish(DaemonEventKind.PortBound, slot.Route.Name, slot.Port, null, $"{slot.Route.Name}: listening on {listener.LocalEndPoint}");

        DaemonLog.PortBound(_logger, slot.Route.Name, listener.LocalEndPoint);
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
        await _gate.WaitAsync().ConfigureAwait(false);
        try
        {
            var slot = _slots.Values.FirstOrDefault(s => ReferenceEquals(s.Listener, listener));
            if (slot is null || _stopped)
            {
                return; // Already replaced, removed, or shutting down.
            }

            lock (_sync)
            {
                slot.Listener = null;
                slot.Error = reason;
            }

            DaemonLog.ListenerFailed(_logger, slot.Route.Name, slot.Port, reason, (long)_options.InitialBindRetryDelay.TotalMilliseconds);
            Publish(DaemonEventKind.PortFailed, slot.Route.Name, slot.Port, null, $"{slot.Route.Name}: port {slot.Port} listener failed: {reason}; rebinding");
            Drain(listener, slot.Route.Name, announce: false);
            slot.Retry?.Cancel();
            var retry = new CancellationTokenSource();
            slot.Retry = retry;
            Track(RetryBindAsync(slot, retry.Token));
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task RetryBindAsync(PortSlot slot, CancellationToken cancellationToken)
    {
        var delay = _options.InitialBindRetryDelay;
        try
        {
            while (true)
            {
                await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
                await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
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
                    delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxBindRetryDelay.Ticks));
                    DaemonLog.PortBindFailed(_logger, slot.Route.Name, slot.Port, reason, (long)delay.TotalMilliseconds);
                }
                finally
                {
                    _gate.Release();
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
            DaemonLog.PortDraining(_logger, app, listener.Port, active, (long)listener.Route.Config.DrainTimeout.TotalMilliseconds);
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
            DaemonLog.DrainReset(_logger, listener.Port, reset);
        }
    }

    private void Track(Task task)
    {
        lock (_sync)
        {
            _drains.RemoveAll(static t => t.IsCompleted);
            _drains.Add(task);
        }
    }
}

using FProxy.Routing;
using FProxy.Transport;

namespace FProxy.Daemon;

/// <summary>The daemon's record of one configured port: its route and its listener, once bound.</summary>
internal sealed class PortSlot(int port, AppRoute route)
{
    public int Port { get; } = port;

    /// <summary>The route the config wants; a listener still to be bound takes it when it binds.</summary>
    public AppRoute Route { get; set; } = route;

    /// <summary>The listener serving the port, or null while it cannot be bound.</summary>
    public PortListener? Listener { get; set; }

    /// <summary>Cancels the background bind retry, if one runs.</summary>
    public CancellationTokenSource? Retry { get; set; }

    /// <summary>Why the last bind failed (or the listener stopped), while it is being retried.</summary>
    public string? Error { get; set; }

    /// <summary>Set when the port left the config: a retry still running must not bind it.</summary>
    public bool Removed { get; set; }
}

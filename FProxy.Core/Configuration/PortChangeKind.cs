namespace FProxy.Configuration;

/// <summary>What a new snapshot does to one port, compared with the running one.</summary>
internal enum PortChangeKind
{
    /// <summary>The port's app is equal in both: nothing to do.</summary>
    Unchanged,

    /// <summary>New port: bind it.</summary>
    Added,

    /// <summary>The port left the config: close it and drain.</summary>
    Removed,

    /// <summary>Its app changed (or it moved to another app) but not Bind or Backlog: swap the route, keep the socket.</summary>
    Rerouted,

    /// <summary>Bind or Backlog changed: bind a new socket first, then drain the old one.</summary>
    Rebound,
}

namespace FProxy.Configuration;

/// <summary>One port's change between two snapshots, with the app before and after.</summary>
internal readonly record struct PortChange(int Port, PortChangeKind Kind, AppConfig? Before, AppConfig? After)
{
    /// <summary>
    /// Rerouted only because its app gained or lost other ports: the route is swapped (it is a new
    /// object), but nothing a connection on this port sees has changed, so it is not reported as
    /// rerouted.
    /// </summary>
    public bool OnlyPortsChanged =>
        Kind == PortChangeKind.Rerouted && Before is { } before && After is { } after
        && string.Equals(before.Name, after.Name, StringComparison.Ordinal)
        && (before with { Ports = after.Ports }).Equals(after);
}

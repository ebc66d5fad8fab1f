namespace FProxy.Configuration;

/// <summary>
/// Compares two snapshots port by port: the whole of what a reload must do. Level-triggered: it
/// depends only on the two snapshots, never on the history that led to them.
/// </summary>
internal static class ConfigDiff
{
    /// <summary>Every port of either snapshot with its change, ordered by port.</summary>
    public static IReadOnlyList<PortChange> Compute(ProxyConfig running, ProxyConfig next)
    {
        var before = PortsOf(running);
        var after = PortsOf(next);
        var changes = new List<PortChange>(before.Count + after.Count);
        foreach (var (port, old) in before)
        {
            if (!after.ContainsKey(port))
            {
                changes.Add(new PortChange(port, PortChangeKind.Removed, old, null));
            }
        }

        foreach (var (port, app) in after)
        {
            if (!before.TryGetValue(port, out var old))
            {
                changes.Add(new PortChange(port, PortChangeKind.Added, null, app));
                continue;
            }

            var kind = old.Equals(app) ? PortChangeKind.Unchanged
                : old.SameListenSettings(app) ? PortChangeKind.Rerouted
                : PortChangeKind.Rebound;
            changes.Add(new PortChange(port, kind, old, app));
        }

        changes.Sort(static (x, y) => x.Port.CompareTo(y.Port));
        return changes;
    }

    private static Dictionary<int, AppConfig> PortsOf(ProxyConfig config)
    {
        var ports = new Dictionary<int, AppConfig>();
        foreach (var app in config.Apps)
        {
            foreach (var port in app.Ports)
            {
                ports[port] = app;
            }
        }

        return ports;
    }
}

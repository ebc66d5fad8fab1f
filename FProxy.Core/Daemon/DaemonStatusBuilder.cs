using FProxy.Configuration;
using FProxy.Health;
using FProxy.Routing;
using FProxy.Transport;

namespace FProxy.Daemon;

/// <summary>
/// What operators see, computed from snapshots of the daemon's state: readiness (should this node
/// get traffic) and status (apps, ports, targets, traffic). Pure functions of what they are given,
/// so the rules of readiness live in one place, apart from how the state is kept.
/// </summary>
internal static class DaemonStatusBuilder
{
    /// <summary>
    /// Ready when a config is applied, every configured port is bound, and shutdown has not begun.
    /// Apps whose targets are all down do not make the node unready: it is fine, and they may recover.
    /// </summary>
    public static Readiness Readiness(bool applied, bool shuttingDown, PortSlot[] slots)
    {
        var reasons = new List<string>();
        var unbound = new List<int>();
        if (!applied)
        {
            reasons.Add("no config applied yet");
        }

        if (shuttingDown)
        {
            reasons.Add("shutting down");
        }

        foreach (var slot in slots)
        {
            if (slot.Listener is null)
            {
                unbound.Add(slot.Port);
                reasons.Add($"port {slot.Port} (app {slot.Route.Name}) is not bound: {slot.Error ?? "binding"}");
            }
        }

        return new Readiness(reasons.Count == 0, reasons, unbound);
    }

    /// <summary>Each app of <paramref name="config"/> that runs: its ports, targets and traffic.</summary>
    public static List<AppStatus> Apps(
        ProxyConfig config,
        Dictionary<string, AppRoute> routes,
        Dictionary<string, AppHealth> health,
        PortSlot[] slots,
        PortListener[] draining)
    {
        var apps = new List<AppStatus>();
        foreach (var app in config.Apps)
        {
            if (!routes.TryGetValue(app.Name, out var route))
            {
                continue;
            }

            var ports = slots.Where(s => string.Equals(s.Route.Name, app.Name, StringComparison.Ordinal)).OrderBy(static s => s.Port).ToArray();
            var targets = health.TryGetValue(app.Name, out var appHealth) ? appHealth.Targets.ToArray() : [];

            // Every listener, not only the app's ports now: a port that moved to another app
            // still carries this app's connections accepted before the move.
            var active = slots.Sum(s => s.Listener?.ActiveConnectionsOf(app.Name) ?? 0)
                + draining.Sum(l => l.ActiveConnectionsOf(app.Name));
            apps.Add(new AppStatus(
                app.Name,
                route.Config.Strategy,
                [.. ports.Select(static s => new PortStatus(s.Port, s.Listener is null ? ListenerState.Retrying : ListenerState.Bound, s.Listener is null ? s.Error : null))],
                [.. targets.Select(static t => new TargetStatus(t.Config.ToString(), t.Weight, t.IsAvailable, t.IsEjected, t.ActiveConnections, t.BytesClientToTarget, t.BytesTargetToClient))],
                active,
                targets.Sum(static t => t.BytesClientToTarget),
                targets.Sum(static t => t.BytesTargetToClient)));
        }

        return apps;
    }
}

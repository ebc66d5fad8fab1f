using System.Diagnostics.Metrics;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Diagnostics;
using FProxy.Health;
using FProxy.Routing;

namespace FProxy.Daemon;

/// <content>What operators see: status, readiness, events, metrics.</content>
public sealed partial class ProxyDaemon
{
    private readonly EventHub _events = new();
    private long _version;
    private string _hash = ConfigHash.Compute(ProxyConfig.Empty);
    private DateTimeOffset? _appliedAt;

    // Set once the first rollout has finished: the version is counted at its start, so it cannot say.
    private volatile bool _applied;
    private volatile bool _shuttingDown;

    /// <summary>The version of the config in force: 1 for the first applied, +1 for each applied after it.</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>
    /// Events from now on (rollouts, binds, target health), until <paramref name="cancellationToken"/>
    /// is cancelled or the daemon stops. A watcher that falls far behind loses its oldest events,
    /// never holds up the daemon.
    /// </summary>
    /// <param name="cancellationToken">Ends the watch.</param>
    public IAsyncEnumerable<DaemonEvent> WatchEventsAsync(CancellationToken cancellationToken = default) =>
        _events.WatchAsync(cancellationToken);

    /// <summary>
    /// Whether this node should get traffic: a config is applied, every configured port is bound,
    /// and shutdown has not begun. Apps whose targets are all down do not make it unready: the
    /// node itself is fine and they may recover.
    /// </summary>
    public Readiness GetReadiness() => DaemonStatusBuilder.Readiness(_applied, _shuttingDown, _listeners.Snapshot().Slots);

    /// <summary>Apps, ports, targets and traffic now, with the config version and readiness.</summary>
    public DaemonStatus GetStatus()
    {
        Dictionary<string, AppRoute> routes;
        Dictionary<string, AppHealth> health;
        lock (_sync)
        {
            routes = new Dictionary<string, AppRoute>(_routes, StringComparer.Ordinal);
            health = new Dictionary<string, AppHealth>(_health, StringComparer.Ordinal);
        }

        var (slots, draining) = _listeners.Snapshot();
        var apps = DaemonStatusBuilder.Apps(Current, routes, health, slots, draining);
        return new DaemonStatus(Version, Volatile.Read(ref _hash), _appliedAt, DaemonStatusBuilder.Readiness(_applied, _shuttingDown, slots), apps);
    }

    /// <summary>
    /// Shutdown has begun (SIGTERM): readiness turns false at once, so a load balancer stops
    /// sending, while listeners stay open until <see cref="StopAsync"/>.
    /// </summary>
    public void BeginShutdown() => _shuttingDown = true;

    /// <summary>
    /// A config source rejected a new snapshot as invalid (the running config stays in force):
    /// logged (event 1002, category FProxy.Config), published as a failed rollout event and counted,
    /// the same for every source. Sources call it through <see cref="IConfigFeedback"/>.
    /// </summary>
    /// <param name="error">The validation errors.</param>
    public void ReportRejected(ConfigException error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var part = ConfigLog.PartSuffix(error);
        ConfigLog.Rejected(_configLogger, error);
        _metrics.Rollout("rejected");
        Publish(DaemonEventKind.RolloutFailed, null, null, null, $"invalid config{part} rejected, version {Version} stays in force: {error.Message}");
    }

    void IConfigFeedback.Rejected(ConfigException error) => ReportRejected(error);

    private void Publish(DaemonEventKind kind, string? app, int? port, string? target, string message) =>
        _events.Publish(new DaemonEvent(kind, _time.GetUtcNow(), Version, app, port, target, message));

    private void OnTargetHealthChanged(string app, TargetState target, HealthTransition transition, string reason)
    {
        var kind = transition is HealthTransition.Healthy or HealthTransition.Returned ? DaemonEventKind.TargetHealthy : DaemonEventKind.TargetUnhealthy;
        if ((kind == DaemonEventKind.TargetHealthy) != target.IsAvailable)
        {
            return; // E.g. an ejection ended while checks still fail: it still takes no connections.
        }

        Publish(kind, app, null, target.Config.ToString(), $"{app}: target {target.Config} {(kind == DaemonEventKind.TargetHealthy ? "healthy" : "unhealthy")}: {reason}");
    }

    private ProxyMetrics.Observations Observe() => new(
        () => SnapshotTargets().SelectMany(static e => new[]
        {
            new Measurement<long>(e.Target.BytesClientToTarget, new("app", e.App), new("target", e.Target.Config.Key), new("direction", "client_to_target")),
            new Measurement<long>(e.Target.BytesTargetToClient, new("app", e.App), new("target", e.Target.Config.Key), new("direction", "target_to_client")),
        }),
        () => SnapshotHealth().Select(static h => new Measurement<int>(h.Targets.Count(static t => t.IsAvailable), new KeyValuePair<string, object?>("app", h.App))),
        () => SnapshotTargets().Select(static e => new Measurement<int>(e.Target.ActiveConnections, new("app", e.App), new("target", e.Target.Config.Key))),
        () => [.. _listeners.Snapshot().Slots.Select(static s => new Measurement<int>(s.Listener is null ? 0 : 1, new("app", s.Route.Name), new("port", s.Port)))]);

    private List<(string App, TargetState Target)> SnapshotTargets() =>
        [.. SnapshotHealth().SelectMany(static h => h.Targets.Select(t => (h.App, t)))];

    private List<(string App, TargetState[] Targets)> SnapshotHealth()
    {
        lock (_sync)
        {
            return [.. _health.Select(static kv => (kv.Key, kv.Value.Targets.ToArray()))];
        }
    }
}

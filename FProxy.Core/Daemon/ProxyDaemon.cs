using System.Buffers;
using System.Net.Sockets;
using FProxy.Configuration;
using FProxy.Diagnostics;
using FProxy.Dns;
using FProxy.Health;
using FProxy.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FProxy.Daemon;

/// <summary>
/// The level-triggered reconciler: each applied snapshot is diffed against what runs, and only
/// what changed is touched. New ports bind; removed ports stop accepting at once and drain; a port
/// whose app changed anything but Bind or Backlog keeps its socket and takes the new route for new
/// connections; a Bind or Backlog change binds the new socket first (reuse-port) and then drains
/// the old one. A port that cannot be bound is retried in the background and stops nothing else.
/// </summary>
public sealed partial class ProxyDaemon : IAsyncDisposable
{
    private readonly ProxyDaemonOptions _options;
    private readonly IAddressResolver _resolver;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConnectionHandler _handler;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<int, PortSlot> _slots = [];
    private readonly Lock _sync = new(); // Guards _slots, _drains and _draining against readers off the gate.
    private readonly List<Task> _drains = [];
    private readonly HashSet<PortListener> _draining = [];
    private readonly ILogger _healthLogger;
    private readonly TargetConnector _connector;
    private readonly Dictionary<string, AppHealth> _health = new(StringComparer.Ordinal);
    private readonly ProxyMetrics _metrics;
    private int _bindFailures; // In the rollout being applied (under the gate).
    private readonly ITimer _idleSweep;

    /// <summary>
    /// How often connections are checked against their app's IdleTimeout when none is short: a
    /// quarter of the shortest IdleTimeout otherwise (at least 25 ms), so a close is at most that late.
    /// </summary>
    private static readonly TimeSpan IdleSweepInterval = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan MinIdleSweepInterval = TimeSpan.FromMilliseconds(25);
    private Dictionary<string, AppRoute> _routes = new(StringComparer.Ordinal);
    private ProxyConfig _current = ProxyConfig.Empty;
    private bool _stopped;

    /// <summary>Creates a daemon with nothing running; <see cref="ApplyAsync"/> starts it.</summary>
    /// <param name="options">Process-wide settings; validated here.</param>
    /// <param name="loggerFactory">Where logs go; none when null.</param>
    /// <param name="timeProvider">Clock for timeouts, drains and retries; the system clock when null.</param>
    /// <exception cref="ArgumentException">An option is invalid.</exception>
    public ProxyDaemon(ProxyDaemonOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
        : this(options, CreateAddressTable(options, loggerFactory, timeProvider), loggerFactory, timeProvider, memoryPool: null)
    {
    }

    internal ProxyDaemon(
        ProxyDaemonOptions options,
        IAddressResolver resolver,
        ILoggerFactory? loggerFactory,
        TimeProvider? timeProvider,
        MemoryPool<byte>? memoryPool)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _resolver = resolver;
        _time = timeProvider ?? TimeProvider.System;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger("FProxy.Daemon");
        _healthLogger = loggerFactory.CreateLogger("FProxy.Health");
        _metrics = new ProxyMetrics(options.MeterFactory, Observe());
        _connector = new TargetConnector(resolver, _time, loggerFactory.CreateLogger("FProxy.Transport"), _metrics);
        _handler = new ConnectionHandler(
            _connector,
            memoryPool ?? PinnedBlockMemoryPool.Shared,
            loggerFactory.CreateLogger("FProxy.Connections"),
            time: _time,
            metrics: _metrics,
            accessLogger: loggerFactory.CreateLogger(AccessLog.Category),
            accessLogAll: options.AccessLogAll);
        _idleSweep = _time.CreateTimer(static s => ((ProxyDaemon)s!).CloseIdleConnections(), this, IdleSweepInterval, IdleSweepInterval);
    }

    private static AddressTable CreateAddressTable(ProxyDaemonOptions options, ILoggerFactory? loggerFactory, TimeProvider? timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new AddressTable(
            options.Dns,
            (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AddressTable>(),
            timeProvider ?? TimeProvider.System);
    }

    /// <summary>The names this daemon's config may use (its strategies and probes), for parsers and subscribers.</summary>
    public ConfigSchema Schema => _options.Schema;

    /// <summary>The snapshot applied last.</summary>
    public ProxyConfig Current => Volatile.Read(ref _current);

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

    /// <summary>Applies every snapshot <paramref name="subscriber"/> emits until cancelled.</summary>
    /// <exception cref="ConfigException">The first snapshot could not be loaded, or names a strategy or probe this daemon lacks.</exception>
    public async Task RunAsync(IConfigSubscriber subscriber, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        await foreach (var config in subscriber.WatchAsync(cancellationToken).ConfigureAwait(false))
        {
            await ApplyAsync(config, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Makes the running state match <paramref name="config"/>. Returns once every port that can be
    /// bound is bound; ports that cannot are retried in the background. Target names start
    /// resolving in parallel without delaying the rollout.
    /// </summary>
    /// <exception cref="ConfigException">
    /// The snapshot names a strategy or probe kind this daemon has not registered; nothing changes.
    /// </exception>
    public async Task ApplyAsync(ProxyConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        CheckNames(config);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            Reconcile(config);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>
    /// Closes every listener at once, lets each app's connections drain for its DrainTimeout,
    /// resets the rest, and completes when no connection is left.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            foreach (var health in _health.Values)
            {
                health.Stop();
            }

            lock (_sync)
            {
                _health.Clear();
            }
            var slots = _slots.Values.ToArray();
            foreach (var slot in slots)
            {
                slot.Removed = true;
                slot.Retry?.Cancel();
                slot.Listener?.Close();
            }

            DaemonLog.ShuttingDown(_logger, ActiveConnections);
            foreach (var slot in slots)
            {
                if (slot.Listener is { } listener)
                {
                    Drain(listener, slot.Route.Name, announce: false);
                }
            }

            lock (_sync)
            {
                _slots.Clear();
            }
        }
        finally
        {
            _gate.Release();
        }

        Task[] drains;
        lock (_sync)
        {
            drains = [.. _drains];
        }

        await Task.WhenAll(drains).WaitAsync(cancellationToken).ConfigureAwait(false);
        _events.Complete(); // Watchers' streams end: nothing more will happen.
        DaemonLog.ShutdownComplete(_logger);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _idleSweep.DisposeAsync().ConfigureAwait(false);
        _events.Complete();
        _metrics.Dispose();
        if (_resolver is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }

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

    /// <summary>The listener of <paramref name="port"/>, for tests and diagnostics.</summary>
    internal PortListener? GetListener(int port)
    {
        lock (_sync)
        {
            return _slots.TryGetValue(port, out var slot) ? slot.Listener : null;
        }
    }

    /// <summary>Configs built in code skip the parser: check here what only this daemon knows.</summary>
    private void CheckNames(ProxyConfig config)
    {
        var errors = new List<string>();
        var schema = Schema;
        for (var i = 0; i < config.Apps.Count; i++)
        {
            var app = config.Apps[i];
            foreach (var strategy in app.Rules.Select(static r => r.Strategy).Prepend(app.Strategy))
            {
                if (strategy is not null && !_options.Strategies.Contains(strategy))
                {
                    errors.Add($"Apps[{i}] \"{app.Name}\": \"Strategy\": unknown strategy \"{strategy}\"; valid strategies: {string.Join(", ", schema.Strategies)}");
                }
            }

            if (app.HealthCheck is { } check && !_options.Probes.Contains(check.Probe))
            {
                errors.Add($"Apps[{i}] \"{app.Name}\": \"HealthCheck.Probe\": unknown probe \"{check.Probe}\"; valid probes: {string.Join(", ", schema.Probes)}");
            }
        }

        if (errors.Count > 0)
        {
            throw new ConfigException("config", errors);
        }
    }

    /// <summary>The route app <paramref name="app"/> uses now, for tests and diagnostics.</summary>
    internal AppRoute? GetRoute(string app) => _routes.GetValueOrDefault(app);

    private void Reconcile(ProxyConfig config)
    {
        var version = Interlocked.Increment(ref _version);
        var hash = ConfigHash.Compute(config);
        _bindFailures = 0;
        Publish(DaemonEventKind.RolloutStarted, null, null, null, $"rollout of version {version} (hash {hash[..12]}) started: {config.Apps.Count} app(s)");
        var routes = new Dictionary<string, AppRoute>(StringComparer.Ordinal);
        foreach (var app in config.Apps)
        {
            // An unchanged app keeps its route object, and with it its strategies' state. Target
            // health lives in the app's AppHealth, which a changed app keeps too.
            if (_routes.TryGetValue(app.Name, out var running) && running.Config.Equals(app))
            {
                routes[app.Name] = running;
                continue;
            }

            if (!_health.TryGetValue(app.Name, out var health))
            {
                var name = app.Name;
                health = new AppHealth(name, _time, _healthLogger, _connector.ConnectOrThrowAsync)
                {
                    Observer = (target, transition, reason) => OnTargetHealthChanged(name, target, transition, reason),
                };
                lock (_sync)
                {
                    _health.Add(app.Name, health);
                }
            }

            health.Update(app, _options.Probes);
            routes[app.Name] = new AppRoute(app, health, _options.Strategies, _time, _healthLogger,
                _routes.TryGetValue(app.Name, out var previous) ? previous.Limit : null);
        }

        foreach (var (name, health) in _health.ToArray())
        {
            if (!routes.ContainsKey(name))
            {
                health.Stop();
                lock (_sync)
                {
                    _health.Remove(name);
                }
            }
        }

        int added = 0, removed = 0, rerouted = 0, rebound = 0;
        foreach (var change in ConfigDiff.Compute(Current, config))
        {
            var route = change.After is { } app ? routes[app.Name] : null;
            switch (change.Kind)
            {
                case PortChangeKind.Removed:
                    RemoveSlot(_slots[change.Port]);
                    removed++;
                    break;
                case PortChangeKind.Added:
                    var slot = new PortSlot(change.Port, route!);
                    lock (_sync)
                    {
                        _slots[change.Port] = slot;
                    }

                    BindOrRetry(slot);
                    added++;
                    break;
                case PortChangeKind.Rerouted:
                    Reroute(_slots[change.Port], route!);
                    rerouted++;
                    break;
                case PortChangeKind.Rebound:
                    Rebind(_slots[change.Port], route!);
                    rebound++;
                    break;
            }
        }

        lock (_sync)
        {
            _routes = routes;
        }
        _resolver.SetNames(config.Apps
            .SelectMany(static a => a.AllTargets())
            .Where(static t => t.Address is null)
            .Select(static t => t.Host)
            .Distinct(StringComparer.OrdinalIgnoreCase));
        Volatile.Write(ref _current, config);
        Volatile.Write(ref _hash, hash);
        var sweep = config.Apps.Select(static a => a.IdleTimeout / 4).Append(IdleSweepInterval).Min() ?? IdleSweepInterval;
        sweep = sweep < MinIdleSweepInterval ? MinIdleSweepInterval : sweep;
        _idleSweep.Change(sweep, sweep);
        _appliedAt = _time.GetUtcNow();
        DaemonLog.ConfigApplied(_logger, version, hash[..12], config.Apps.Count, routes.Values.Sum(static r => r.Config.Ports.Count), added, removed, rerouted, rebound);
        _metrics.Rollout(_bindFailures == 0 ? "applied" : "partial");
        Publish(DaemonEventKind.RolloutApplied, null, null, null, _bindFailures == 0
            ? $"version {version} (hash {hash[..12]}) applied"
            : $"version {version} (hash {hash[..12]}) applied; {_bindFailures} port(s) not bound yet, retrying");
        foreach (var app in config.Apps)
        {
            if (app.AllTargets().All(static t => t.Address is null))
            {
                Track(CheckResolvableAsync(app, version));
            }
        }
    }

    /// <summary>
    /// An app none of whose target names resolve is applied all the same (the names may appear)
    /// but reported, since until then every connection to it fails.
    /// </summary>
    private async Task CheckResolvableAsync(AppConfig app, long version)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10), _time);
        var names = app.AllTargets().Select(static t => t.Host).Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
        var answers = await Task.WhenAll(names.Select(async name =>
        {
            try
            {
                return await _resolver.GetAsync(name, timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return DnsAnswer.Failed($"lookup of \"{name}\" did not finish within 10s");
            }
        })).ConfigureAwait(false);
        if (Version != version || answers.Any(static a => a.Error is null && a.Addresses.Length > 0))
        {
            return;
        }

        var reasons = string.Join("; ", answers.Select(static a => a.Error ?? "no address"));
        DaemonLog.AppUnresolvable(_logger, app.Name, reasons);
        Publish(DaemonEventKind.RolloutFailed, app.Name, null, null, $"{app.Name}: none of its targets resolve ({reasons}); applied anyway, it recovers when they do");
    }

    /// <summary>New connections take the new route at once; the socket and open connections stay.</summary>
    private void Reroute(PortSlot slot, AppRoute route)
    {
        var old = slot.Route;
        slot.Route = route; // A bind still being retried uses it when it succeeds.
        slot.Listener?.SetRoute(route);
        if (!string.Equals(old.Name, route.Name, StringComparison.Ordinal))
        {
            DaemonLog.PortRerouted(_logger, slot.Port, route.Name);
        }
    }

    /// <summary>Bind or Backlog changed: the new socket binds first, then the old one drains.</summary>
    private void Rebind(PortSlot slot, AppRoute route)
    {
        slot.Route = route;
        if (slot.Listener is not { } listener)
        {
            return; // Still retrying its bind: the next attempt uses the new settings.
        }

        // New connections take the new route at once, even while the new socket is pending.
        listener.SetRoute(route);
        DaemonLog.PortRebinding(_logger, route.Name, slot.Port);
        BindOrRetry(slot);
    }

    private void RemoveSlot(PortSlot slot)
    {
        slot.Removed = true;
        slot.Retry?.Cancel();
        lock (_sync)
        {
            _slots.Remove(slot.Port);
        }

        if (slot.Listener is { } listener)
        {
            Drain(listener, slot.Route.Name, announce: true);
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
            listener = PortListener.Bind(slot.Port, slot.Route, _handler, _time, _logger);
        }
        catch (SocketException e)
        {
            reason = e.SocketErrorCode == SocketError.AddressAlreadyInUse
                ? "address already in use (held by a socket without SO_REUSEPORT, or by another user)"
                : e.Message;
            return false;
        }

        var old = slot.Listener;
        listener.Failed = OnListenerFailed;
        listener.Start();
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

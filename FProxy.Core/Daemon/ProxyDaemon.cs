using System.Buffers;
using FProxy.Configuration;
using FProxy.Diagnostics;
using FProxy.Dns;
using FProxy.Health;
using FProxy.Routing;
using FProxy.Transport;
using FProxy.Transport.Linux;
using FProxy.Transport.Sockets;
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
public sealed partial class ProxyDaemon : IAsyncDisposable, IConfigFeedback
{
    private readonly ProxyDaemonOptions _options;
    private readonly IAddressResolver _resolver;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConnectionHandler _handler;
    private readonly ITransport _transport;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ListenerSupervisor _listeners;
    private readonly Lock _sync = new(); // Guards _routes and _health against readers off the gate.
    private readonly ILogger _healthLogger;
    private readonly ILogger _configLogger;
    private readonly TargetConnector _connector;
    private readonly Dictionary<string, AppHealth> _health = new(StringComparer.Ordinal);
    private readonly ProxyMetrics _metrics;
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
        MemoryPool<byte>? memoryPool,
        Func<ITransport, ITransport>? wrapTransport = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _resolver = resolver;
        _time = timeProvider ?? TimeProvider.System;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger("FProxy.Daemon");
        _healthLogger = loggerFactory.CreateLogger("FProxy.Health");
        _configLogger = loggerFactory.CreateLogger("FProxy.Config");
        _metrics = new ProxyMetrics(options.MeterFactory, Observe());
        _connector = new TargetConnector(resolver, _time, loggerFactory.CreateLogger("FProxy.Transport"), _metrics);
        _handler = new ConnectionHandler(
            _connector,
            loggerFactory.CreateLogger("FProxy.Connections"),
            time: _time,
            metrics: _metrics,
            accessLogger: loggerFactory.CreateLogger(AccessLog.Category),
            accessLogAll: options.AccessLogAll);
        _transport = CreateTransport(options, _time, memoryPool ?? PinnedBlockMemoryPool.Shared, _handler.Budget, loggerFactory.CreateLogger("FProxy.Transport"));
        _transport = wrapTransport?.Invoke(_transport) ?? _transport; // Tests inject faults here.
        _listeners = new ListenerSupervisor(options, _handler, _transport, _time, _logger, _gate, Publish);
        _idleSweep = _time.CreateTimer(static s => ((ListenerSupervisor)s!).CloseIdleConnections(), _listeners, IdleSweepInterval, IdleSweepInterval);
    }

    private static ITransport CreateTransport(ProxyDaemonOptions options, TimeProvider time, MemoryPool<byte> blocks, ConnectionBudget budget, ILogger logger)
    {
        if (options.Transport == ProxyTransport.Sockets || (options.Transport == ProxyTransport.Auto && !EpollTransport.IsSupported))
        {
            return new SocketTransport(time, blocks);
        }

        // Splice pipes take descriptors from the connection budget, at most an eighth of it, so
        // bulk streams can never crowd out new connections by more than that.
        var pipes = options.Splice ? Math.Max(1, budget.Max / 8) : 0;
        var transport = new EpollTransport(options.IoThreads, time, blocks, new PipeAllowance(budget, pipes), logger);
        EpollLog.Started(logger, options.IoThreads, options.Splice ? "on" : "off", pipes);
        return transport;
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
    public int ActiveConnections => _listeners.ActiveConnections;


    /// <summary>Ports that have a bound listener now.</summary>
    public IReadOnlyCollection<int> BoundPorts => _listeners.BoundPorts;

    /// <summary>
    /// Applies every snapshot <paramref name="subscriber"/> emits until cancelled. A snapshot that
    /// is invalid or fails to apply is reported (a <see cref="DaemonEventKind.RolloutFailed"/>
    /// event, the rollouts metric, a log line) and the next one is applied: no snapshot stops it.
    /// </summary>
    /// <param name="subscriber">The config source; it reports its own rejections to this daemon.</param>
    /// <param name="cancellationToken">Ends the run (the daemon keeps serving; <see cref="StopAsync"/> stops it).</param>
    /// <exception cref="ConfigException">The source ended its stream with it (the file source does when the file is invalid at the start).</exception>
    public async Task RunAsync(IConfigSubscriber subscriber, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subscriber);
        await foreach (var config in subscriber.WatchAsync(this, cancellationToken).ConfigureAwait(false))
        {
            await TryApplyAsync(config, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// <see cref="ApplyAsync"/>, with a snapshot that is invalid or fails to apply reported (event,
    /// metric, log line) instead of thrown; what a config source's loop calls for each snapshot.
    /// </summary>
    /// <param name="config">The snapshot.</param>
    /// <param name="cancellationToken">Cancels the wait for a rollout in progress.</param>
    /// <returns>Whether <paramref name="config"/> now runs.</returns>
    public async Task<bool> TryApplyAsync(ProxyConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        try
        {
            await ApplyAsync(config, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConfigException e)
        {
            ReportRejected(e);
            return false;
        }
        catch (RolloutException e)
        {
            DaemonLog.RolloutRejected(_logger, Version, e.Message, e.InnerException);
            _metrics.Rollout("failed");
            Publish(DaemonEventKind.RolloutFailed, null, null, null, $"rollout failed, nothing changed, version {Version} stays in force: {e.Message}");
            return false;
        }
#pragma warning disable CA1031 // A rollout that fails must not end the source's loop: later snapshots must still apply.
        catch (Exception e) when (e is not OperationCanceledException and not ObjectDisposedException)
#pragma warning restore CA1031
        {
            DaemonLog.RolloutFailed(_logger, e.Message, e);
            _metrics.Rollout("failed");
            Publish(DaemonEventKind.RolloutFailed, null, null, null, $"rollout failed, version {Version} stays in force as far as it was kept: {e.Message}");
            return false;
        }
    }

    /// <summary>
    /// Makes the running state match <paramref name="config"/>. Returns once every port that can be
    /// bound is bound; ports that cannot are retried in the background. Target names start
    /// resolving in parallel without delaying the rollout.
    /// </summary>
    /// <exception cref="ConfigException">
    /// The snapshot breaks a rule of <see cref="ConfigValidator"/> (checked with this daemon's
    /// strategies and probes); nothing changes.
    /// </exception>
    /// <exception cref="RolloutException">A strategy or probe factory threw; nothing changes.</exception>
    public async Task ApplyAsync(ProxyConfig config, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        // Every source meets the same rules: a config built in code or pushed by a custom
        // subscriber is checked here as the parser checks a file, with this daemon's names.
        ConfigValidator.ThrowIfInvalid(config, "config", Schema);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            Reconcile(config, RolloutPreflight.Run(config, _routes, _options));
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

            _listeners.CloseAll();
            DaemonLog.ShuttingDown(_logger, ActiveConnections);
        }
        finally
        {
            _gate.Release();
        }

        await _listeners.WhenIdleAsync(cancellationToken).ConfigureAwait(false);
        _events.Complete(); // Watchers' streams end: nothing more will happen.
        DaemonLog.ShutdownComplete(_logger);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        await _idleSweep.DisposeAsync().ConfigureAwait(false);
        await _transport.DisposeAsync().ConfigureAwait(false);
        _events.Complete();
        _metrics.Dispose();
        if (_resolver is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }

    /// <summary>The transport carrying this daemon's connections.</summary>
    internal ITransport Transport => _transport;

    /// <summary>The listener of <paramref name="port"/>, for tests and diagnostics.</summary>
    internal PortListener? GetListener(int port) => _listeners.GetListener(port);
}

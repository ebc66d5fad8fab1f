using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FProxy.Configuration;
using FProxy.Etcd.Source;
using Microsoft.Extensions.Logging;

namespace FProxy.Etcd;

/// <summary>
/// A config source over etcd v3: every key <c>&lt;prefix&gt;/apps/&lt;name&gt;</c> holds one app as
/// JSON (one element of config.json's <c>Apps</c>, with the same validation and messages). Many
/// nodes following one prefix serve the same apps.
/// </summary>
/// <remarks>
/// <para>
/// The whole <c>apps/</c> range is read at one revision and watched from the next; each watch
/// response (all keys one transaction changed) becomes one snapshot. A bad value rejects that app
/// only: it is reported with its key and its last good version keeps running. Of two apps that
/// claim one port (or one name), the one whose key was created first keeps it, so every node
/// decides alike.
/// </para>
/// <para>
/// On a lost connection the source reconnects with backoff (capped at <see cref="EtcdOptions.MaxBackoff"/>),
/// failing over across the endpoints, while the node keeps serving; after a compaction it reads
/// everything again. With <see cref="EtcdOptions.StateDirectory"/> set, each applied config is
/// kept on disk and served at the next start before etcd answers.
/// </para>
/// </remarks>
public sealed class EtcdConfigSubscriber : IConfigSubscriber, IConfigSourceStatus
{
    private readonly EtcdConnection _connection;
    private readonly ILogger _logger;
    private readonly ConfigSchema _schema;
    private readonly TimeProvider _time;
    private readonly Channel<bool> _changes = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private SourceState _state = SourceState.Initial;

    /// <summary>Creates the source; nothing connects until <see cref="WatchAsync"/> runs.</summary>
    /// <param name="connection">The cluster (shared with the node report).</param>
    /// <param name="logger">Receives connection changes, compactions and copies on disk; rejected apps go to the feedback.</param>
    /// <param name="schema">The strategy and probe names apps may use; the built-ins when null.</param>
    /// <param name="timeProvider">Clock for backoff and sync times; <see cref="TimeProvider.System"/> when null.</param>
    public EtcdConfigSubscriber(EtcdConnection connection, ILogger<EtcdConfigSubscriber> logger, ConfigSchema? schema = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(logger);
        _connection = connection;
        _logger = logger;
        _schema = schema ?? ConfigSchema.Default;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The etcd revision of the last <c>apps/</c> change the node has applied; 0 before the first.</summary>
    public long AppliedRevision => Volatile.Read(ref _state).AppliedRevision;

    /// <summary>Whether the watch on etcd runs now.</summary>
    public bool Connected => Volatile.Read(ref _state).Connected;

    /// <summary>Rejected apps now: the app's name to the reason.</summary>
    public IReadOnlyDictionary<string, string> Errors => Volatile.Read(ref _state).Errors;

    /// <summary>Signals each change of <see cref="AppliedRevision"/>, <see cref="Connected"/> or <see cref="Errors"/> (the node report follows it).</summary>
    internal ChannelReader<bool> Changes => _changes.Reader;

    /// <inheritdoc/>
    public ConfigSourceStatus GetSourceStatus()
    {
        var state = Volatile.Read(ref _state);
        return new ConfigSourceStatus("etcd", state.Connected, state.AppliedRevision, state.LastSync, state.Errors);
    }

    /// <inheritdoc/>
    /// <remarks>
    /// Never ends with an exception while etcd is unreachable: the stream waits (serving the copy
    /// on disk first, when there is one) and goes on once etcd answers.
    /// </remarks>
    public async IAsyncEnumerable<ProxyConfig> WatchAsync(IConfigFeedback feedback, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        var copy = ReadCopy();
        var snapshots = Channel.CreateBounded<Snapshot>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
            SingleWriter = true,
        });
        var seeded = copy?.Apps.ToDictionary(static a => a.App.Name, StringComparer.OrdinalIgnoreCase);
        var table = new AppTable(_connection.Options.NormalizedPrefix, _schema, seeded);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // Until the copy is applied its revision is the one being served (for the log of a lost connection).
        var session = new EtcdSession(_connection, table, feedback, snapshots.Writer, SetConnected, () => Math.Max(AppliedRevision, copy?.Revision ?? 0), serving: copy is not null, _logger, _time);
        var running = Task.Run(() => session.RunAsync(stop.Token), CancellationToken.None);
        try
        {
            var yielded = false;
            if (copy is not null)
            {
                EtcdLog.ServingCopy(_logger, copy.Path, copy.Revision, copy.Config.Apps.Count);
                var fromCopy = new Snapshot(new TableSnapshot(copy.Config, copy.Apps, new Dictionary<string, KeyErrors>()), copy.Revision, FromCopy: true);
                yield return copy.Config;
                yielded = true;
                await AfterYieldAsync(feedback, fromCopy, cancellationToken).ConfigureAwait(false);
            }

            while (true)
            {
                var snapshot = await snapshots.Reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var config = snapshot.Table.Config;

                // The daemon needs the first config even when it is empty (it becomes ready on it);
                // after that, a snapshot equal to what runs changes nothing but the report.
                if (!yielded || !config.Equals(feedback.Current))
                {
                    yield return config;
                    yielded = true;
                }

                await AfterYieldAsync(feedback, snapshot, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await running.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Stopped with the stream.
            }
        }
    }

    /// <summary>
    /// The daemon has taken the snapshot (it asks for the next one only after applying or
    /// rejecting it): when what runs is that snapshot, record its revision and errors and keep a copy.
    /// </summary>
    private async Task AfterYieldAsync(IConfigFeedback feedback, Snapshot snapshot, CancellationToken cancellationToken)
    {
        var current = feedback.Current;
        if (!ReferenceEquals(current, snapshot.Table.Config) && !current.Equals(snapshot.Table.Config))
        {
            // Rejected as a whole (the daemon logged why): the report keeps the revision in force.
            return;
        }

        var errors = snapshot.Table.Errors.Values
            .GroupBy(static e => e.App, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(static g => g.Key, static g => g.First().Message, StringComparer.OrdinalIgnoreCase);
        Update(state => state with
        {
            AppliedRevision = snapshot.Revision,
            LastSync = snapshot.FromCopy ? state.LastSync : _time.GetUtcNow(),
            Errors = errors,
        });

        if (!snapshot.FromCopy && _connection.Options.StateDirectory is { } directory)
        {
            try
            {
                await LastGoodFile.WriteAsync(directory, snapshot.Revision, _connection.Options.NodeId, _time.GetUtcNow(), snapshot.Table.Apps, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                EtcdLog.CopyWriteFailed(_logger, directory, e.Message);
            }
        }
    }

    private LastGood? ReadCopy()
    {
        if (_connection.Options.StateDirectory is not { } directory)
        {
            return null;
        }

        try
        {
            return LastGoodFile.Read(directory, _schema);
        }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            EtcdLog.CopyUnusable(_logger, LastGoodFile.PathIn(directory), e.Message);
            return null;
        }
    }

    private void SetConnected(bool connected)
    {
        if (Volatile.Read(ref _state).Connected != connected)
        {
            Update(state => state with { Connected = connected, LastSync = connected ? _time.GetUtcNow() : state.LastSync });
        }
    }

    private void Update(Func<SourceState, SourceState> change)
    {
        while (true)
        {
            var before = Volatile.Read(ref _state);
            if (Interlocked.CompareExchange(ref _state, change(before), before) == before)
            {
                break;
            }
        }

        _changes.Writer.TryWrite(true);
    }
}

using System.Globalization;
using System.Threading.Channels;
using Etcdserverpb;
using FProxy.Configuration;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Logging;

namespace FProxy.Etcd.Source;

/// <summary>
/// The etcd side of the source: read the whole <c>apps/</c> range at one revision, watch from the
/// next, turn each watch response (every key one transaction changed) into one snapshot; on a
/// lost connection fail over to the next endpoint with backoff, and after a compaction read again.
/// Every read starts from scratch, so no change is missed, duplicated or reordered.
/// </summary>
internal sealed class EtcdSession(
    EtcdConnection connection,
    AppTable table,
    IConfigFeedback feedback,
    ChannelWriter<Snapshot> snapshots,
    Action<bool> connectedChanged,
    Func<long> appliedRevision,
    bool serving,
    ILogger logger,
    TimeProvider time)
{
    private static readonly TimeSpan WaitingLogInterval = TimeSpan.FromSeconds(10);

    private readonly string _prefix = connection.Options.NormalizedPrefix;
    private readonly Dictionary<string, string> _reported = new(StringComparer.Ordinal);
    private bool _serving = serving;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = new Backoff(connection.Options.MaxBackoff, time);
        long? lostAt = null;
        long lastWaitingLog = 0;
        var waitingLogged = false;

        // Where the watch goes on from: after a lost connection it resumes there (one cheap watch
        // per node, not a read of every app by every node at once); 0 reads everything first.
        long next = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            var endpoint = connection.Endpoint;
            try
            {
                var headers = await connection.HeadersAsync(cancellationToken).ConfigureAwait(false);
                if (next == 0)
                {
                    var revision = await ReadAllAsync(headers, cancellationToken).ConfigureAwait(false);
                    next = revision + 1;
                    EtcdLog.Synced(logger, endpoint, table.Count, _prefix, revision, next);
                }

                void Watching()
                {
                    connectedChanged(true);
                    if (lostAt is { } since)
                    {
                        EtcdLog.ConnectionBack(logger, endpoint, $"{time.GetElapsedTime(since).TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s");
                        lostAt = null;
                    }

                    backoff.Reset();
                    waitingLogged = false;
                }

                await WatchAsync(headers, next, Watching, revision => next = revision + 1, cancellationToken).ConfigureAwait(false);

                // The history the watch needed was compacted: read everything again at once.
                next = 0;
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                // The stream ended: gRPC reports its own cancellation as an RpcException.
                return;
            }
#pragma warning disable CA1031 // Whatever goes wrong (a connection, or something unforeseen in the client) is retried: a source that stops silently would freeze every node's config.
            catch (Exception e)
#pragma warning restore CA1031
            {
                connectedChanged(false);
                if (e is RpcException { StatusCode: StatusCode.Unauthenticated } || e.Message.Contains("auth token", StringComparison.OrdinalIgnoreCase))
                {
                    connection.ResetToken();
                }

                var reason = Describe(e);
                if (reason.Contains("RemoteCertificateValidationCallback", StringComparison.Ordinal) && connection.CertificateProblem is { } problem)
                {
                    reason = problem;
                }
                if (_serving)
                {
                    if (lostAt is null)
                    {
                        lostAt = time.GetTimestamp();
                        EtcdLog.ConnectionLost(logger, endpoint, reason, appliedRevision());
                    }
                }
                else if (!waitingLogged || time.GetElapsedTime(lastWaitingLog) >= WaitingLogInterval)
                {
                    lastWaitingLog = time.GetTimestamp();
                    waitingLogged = true;
                    EtcdLog.Waiting(logger, string.Join(",", connection.Options.Endpoints), reason);
                }

                connection.Failover(endpoint);
                await backoff.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Reads every app key at one revision into the table and publishes the snapshot (as of the apps' last change); returns the store's revision.</summary>
    private async Task<long> ReadAllAsync(Metadata? headers, CancellationToken cancellationToken)
    {
        var (revision, lastChange, keys) = await AppRange.ReadAsync(connection, headers, cancellationToken).ConfigureAwait(false);
        table.Replace(keys);
        Publish(lastChange);
        return revision;
    }

    /// <summary>Follows changes from <paramref name="start"/> until the connection fails (throws) or the history was compacted (returns).</summary>
    private async Task WatchAsync(Metadata? headers, long start, Action created, Action<long> applied, CancellationToken cancellationToken)
    {
        var apps = EtcdLayout.AppsPrefix(_prefix);
        // "hasleader": etcd ends the watch when its member loses the cluster's leader, instead of
        // keeping a stream open that would never deliver (a member cut off from the others).
        var watchHeaders = new Metadata { { "hasleader", "true" } };
        foreach (var entry in headers ?? [])
        {
            watchHeaders.Add(entry);
        }

        using var call = connection.WatchClient.Watch(watchHeaders, cancellationToken: cancellationToken);
        await call.RequestStream.WriteAsync(new WatchRequest
        {
            CreateRequest = new WatchCreateRequest
            {
                Key = ByteString.CopyFromUtf8(apps),
                RangeEnd = ByteString.CopyFromUtf8(EtcdLayout.RangeEnd(apps)),
                StartRevision = start,
            },
        }, cancellationToken).ConfigureAwait(false);

        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            var response = call.ResponseStream.Current;
            if (response.CompactRevision != 0)
            {
                EtcdLog.Compacted(logger, response.CompactRevision, start);
                return;
            }

            if (response.Canceled)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, $"etcd cancelled the watch: {response.CancelReason}"));
            }

            if (response.Created)
            {
                // A store rebuilt or restored from a backup has gone back in time: a watch from
                // our revision would wait for revisions that mean something else. Read it all again.
                if (response.Header.Revision < start - 1)
                {
                    EtcdLog.WentBack(logger, response.Header.Revision, start - 1);
                    return;
                }

                created();
            }

            if (response.Events.Count == 0)
            {
                continue;
            }

            // One response carries whole revisions (a transaction's keys together): one snapshot for all of it.
            long revision = 0;
            foreach (var change in response.Events)
            {
                var key = change.Kv.Key.ToStringUtf8();
                if (change.Type == Mvccpb.Event.Types.EventType.Put)
                {
                    table.Put(key, change.Kv.Value.ToStringUtf8(), change.Kv.CreateRevision);
                }
                else
                {
                    table.Delete(key);
                }

                revision = Math.Max(revision, change.Kv.ModRevision);
            }

            EtcdLog.Changed(logger, revision, response.Events.Count);
            Publish(revision);
            applied(revision);
        }

        throw new RpcException(new Status(StatusCode.Unavailable, "etcd closed the watch stream"));
    }

    /// <summary>Builds the snapshot, reports each key newly rejected (or rejected for a new reason), and hands the snapshot on.</summary>
    private void Publish(long revision)
    {
        var built = table.Build();
        foreach (var (key, errors) in built.Errors)
        {
            var message = errors.Message;
            if (!_reported.TryGetValue(key, out var before) || before != message)
            {
                _reported[key] = message;
                feedback.Rejected(new ConfigException("etcd", errors.Problems, key));
            }
        }

        foreach (var key in _reported.Keys.Where(k => !built.Errors.ContainsKey(k)).ToList())
        {
            _reported.Remove(key);
            if (table.Contains(key))
            {
                EtcdLog.KeyFixed(logger, key);
            }
        }

        _serving = true;

        // The channel holds one snapshot: a newer one replaces one the daemon has not taken yet
        // (snapshots are whole, so the newest says everything).
        snapshots.TryWrite(new Snapshot(built, revision, FromCopy: false));
    }

    private static string Describe(Exception e) => e switch
    {
        RpcException rpc => string.IsNullOrEmpty(rpc.Status.Detail) ? rpc.StatusCode.ToString() : $"{rpc.StatusCode}: {rpc.Status.Detail}",
        RpcException or HttpRequestException or IOException or OperationCanceledException or TimeoutException => e.Message,
        _ => $"{e.GetType().Name}: {e.Message}",
    };
}

using System.Security.Cryptography;
using Etcdserverpb;
using FProxy.Etcd;
using FProxy.FTest.Net;
using Google.Protobuf;

namespace FProxy.FTest.Fleet;

/// <summary>
/// The reads and the one write <c>ftest fleet</c> makes, on the fleet's etcd, each one request
/// (through <see cref="EtcdCaller"/>, which tries the endpoints and turns errors into one line).
/// </summary>
internal sealed class FleetStore(EtcdConnection connection)
{
    /// <summary>etcd's default --max-txn-ops: the most comparisons (and, separately, writes) one transaction may hold.</summary>
    private const int DefaultMaxTxnOps = 128;

    private readonly EtcdCaller _caller = new(connection);

    /// <summary>The normalized key prefix.</summary>
    public string Prefix { get; } = connection.Options.NormalizedPrefix;

    /// <summary>The endpoints, for messages.</summary>
    public string Endpoints => string.Join(",", connection.Options.Endpoints.Select(static e => e.ToString().TrimEnd('/')));

    /// <summary>Opens the connection (nothing is dialed yet); an unusable CA file is a one-line error.</summary>
    public static EtcdConnection Connect(EtcdOptions options)
    {
        try
        {
            return new EtcdConnection(options);
        }
        catch (CryptographicException e)
        {
            throw new ToolException($"invalid CA file \"{options.CaFile}\": {e.Message}");
        }
    }

    /// <summary>Every app key and value, the last push's marker, and the store's revision, in one read.</summary>
    public async Task<StoredApps> ReadAppsAsync(CancellationToken ct)
    {
        var txn = new TxnRequest
        {
            Success =
            {
                new RequestOp { RequestRange = Range(EtcdLayout.AppsPrefix(Prefix)) },
                new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(EtcdLayout.LastPushKey(Prefix)), KeysOnly = true } },
            },
        };
        var reply = await _caller.CallAsync(
            (client, headers, deadline, token) => client.TransactionAsync(txn, headers, deadline, token),
            deadline: null,
            ct).ConfigureAwait(false);
        var stored = reply.Responses[0].ResponseRange.Kvs.ToDictionary(
            static kv => kv.Key.ToStringUtf8(),
            static kv => new StoredApp(kv.Value.ToStringUtf8(), kv.ModRevision),
            StringComparer.Ordinal);
        var marker = reply.Responses[1].ResponseRange.Kvs;
        return new StoredApps(reply.Header.Revision, stored, marker.Count == 0 ? 0 : marker[0].ModRevision);
    }

    /// <summary>
    /// Writes a plan's puts and deletes in one transaction, which holds only if the apps are as
    /// the plan read them; returns its revision.
    /// </summary>
    /// <exception cref="ToolException">The apps changed since they were read (nothing written), or etcd failed.</exception>
    public async Task<long> CommitAsync(PushPlan plan, CancellationToken ct)
    {
        var apps = EtcdLayout.AppsPrefix(Prefix);
        var txn = new TxnRequest();

        // No app was written or created since the read: every key in the range was last written
        // at or before the read's revision (an empty range passes)...
        txn.Compare.Add(new Compare
        {
            Key = ByteString.CopyFromUtf8(apps),
            RangeEnd = ByteString.CopyFromUtf8(EtcdLayout.RangeEnd(apps)),
            Target = Compare.Types.CompareTarget.Mod,
            Result = Compare.Types.CompareResult.Less,
            ModRevision = plan.Stored.Revision + 1,
        });

        // ...no other push ran meanwhile (each rewrites the marker, deletes included)...
        var marker = EtcdLayout.LastPushKey(Prefix);
        txn.Compare.Add(new Compare
        {
            Key = ByteString.CopyFromUtf8(marker),
            Target = Compare.Types.CompareTarget.Mod,
            Result = Compare.Types.CompareResult.Equal,
            ModRevision = plan.Stored.LastPush,
        });

        // ...and none the push leaves alone was deleted (a deleted key is not in the range above).
        // etcd takes at most 128 comparisons in a transaction by default (--max-txn-ops): past
        // that, a delete made by hand meanwhile goes unnoticed, and the marker still catches pushes.
        // A key it puts or deletes ends as the file says whatever happened to it meanwhile.
        foreach (var key in plan.Unchanged.Count + txn.Compare.Count <= DefaultMaxTxnOps ? plan.Unchanged : [])
        {
            txn.Compare.Add(new Compare
            {
                Key = ByteString.CopyFromUtf8(key),
                Target = Compare.Types.CompareTarget.Mod,
                Result = Compare.Types.CompareResult.Equal,
                ModRevision = plan.Stored.Apps[key].ModRevision,
            });
        }

        foreach (var change in plan.Changes)
        {
            txn.Success.Add(change.Value is { } value
                ? new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(change.Key), Value = ByteString.CopyFromUtf8(value) } }
                : new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(change.Key) } });
        }

        txn.Success.Add(new RequestOp
        {
            RequestPut = new PutRequest
            {
                Key = ByteString.CopyFromUtf8(marker),
                Value = ByteString.CopyFromUtf8(
                    $"{{\"time\":\"{DateTimeOffset.UtcNow:O}\",\"apps\":{plan.Unchanged.Count + plan.Changes.Count(static c => c.Value is not null)}}}"),
            },
        });

        var reply = await _caller.CallAsync(
            (client, headers, deadline, token) => client.TransactionAsync(txn, headers, deadline, token),
            deadline: null,
            ct).ConfigureAwait(false);
        if (!reply.Succeeded)
        {
            throw new ToolException($"the apps under {apps} changed during the push (another push?); nothing was written: run it again");
        }

        return reply.Header.Revision;
    }

    /// <summary>
    /// The apps' last change and every node report, read in one transaction so a node's lag is
    /// measured against the store at the moment its report was read.
    /// </summary>
    /// <param name="deadline">When to give up on this read at the latest, sooner than the request timeout.</param>
    /// <param name="ct">Cancels the read.</param>
    public async Task<FleetStatus> ReadStatusAsync(DateTime? deadline, CancellationToken ct)
    {
        var apps = Range(EtcdLayout.AppsPrefix(Prefix));
        // The newest app only, without values: its ModRevision is the apps' last write, and Count
        // still counts the whole range.
        apps.SortTarget = RangeRequest.Types.SortTarget.Mod;
        apps.SortOrder = RangeRequest.Types.SortOrder.Descend;
        apps.Limit = 1;
        apps.KeysOnly = true;
        var nodes = Range(EtcdLayout.NodesPrefix(Prefix));
        var txn = new TxnRequest
        {
            Success =
            {
                new RequestOp { RequestRange = apps },
                new RequestOp { RequestRange = nodes },
                new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(EtcdLayout.LastPushKey(Prefix)), KeysOnly = true } },
            },
        };
        var reply = await _caller.CallAsync(
            (client, headers, callDeadline, token) => client.TransactionAsync(txn, headers, callDeadline, token),
            deadline,
            ct).ConfigureAwait(false);

        var appsReply = reply.Responses[0].ResponseRange;
        var revision = reply.Header.Revision;
        // The last push (deletes included) or the newest app write, whichever is later.
        var marker = reply.Responses[2].ResponseRange.Kvs;
        var appsRevision = StoredApps.LastChangeOf(
            revision, appsReply.Kvs.Count == 0 ? 0 : appsReply.Kvs[0].ModRevision, marker.Count == 0 ? 0 : marker[0].ModRevision);
        var list = reply.Responses[1].ResponseRange.Kvs
            .Select(kv =>
            {
                var report = NodeReport.FromJson(kv.Value.ToStringUtf8());
                var lag = report is null ? 0 : Math.Max(0, appsRevision - report.AppliedRevision);
                return new NodeStatus(EtcdLayout.LastSegment(kv.Key.ToStringUtf8()), report, lag);
            })
            .OrderBy(static n => n.Id, StringComparer.Ordinal)
            .ToList();
        return new FleetStatus(revision, appsRevision, appsReply.Count, list);
    }

    private static RangeRequest Range(string prefix) => new()
    {
        Key = ByteString.CopyFromUtf8(prefix),
        RangeEnd = ByteString.CopyFromUtf8(EtcdLayout.RangeEnd(prefix)),
    };
}

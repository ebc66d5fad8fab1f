using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace FProxy.Etcd.Source;

/// <summary>One read of every key under <c>apps/</c>, at one revision (the source's start and re-reads, and --check).</summary>
internal static class AppRange
{
    /// <summary>
    /// Reads the apps and the last push's marker in one transaction. Returns the store's revision
    /// (the watch goes on from the next), the revision of the last change to the apps that the
    /// read shows (the newest app write or the last push, deletes included; a node reports it
    /// as applied, so writes elsewhere in the store, node reports among them, do not count), and the keys.
    /// </summary>
    public static async Task<(long Revision, long LastChange, IReadOnlyList<(string Key, string Value, long CreateRevision)> Keys)> ReadAsync(
        EtcdConnection connection, Metadata? headers, CancellationToken cancellationToken)
    {
        var prefix = connection.Options.NormalizedPrefix;
        var apps = EtcdLayout.AppsPrefix(prefix);
        var txn = new TxnRequest
        {
            Success =
            {
                new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(apps), RangeEnd = ByteString.CopyFromUtf8(EtcdLayout.RangeEnd(apps)) } },
                new RequestOp { RequestRange = new RangeRequest { Key = ByteString.CopyFromUtf8(EtcdLayout.LastPushKey(prefix)), KeysOnly = true } },
            },
        };
        var reply = await connection.Client.TransactionAsync(txn, headers, connection.RequestDeadline, cancellationToken).ConfigureAwait(false);
        var kvs = reply.Responses[0].ResponseRange.Kvs;
        var marker = reply.Responses[1].ResponseRange.Kvs;
        var lastChange = Math.Max(
            kvs.Count == 0 ? 0 : kvs.Max(static kv => kv.ModRevision),
            marker.Count == 0 ? 0 : marker[0].ModRevision);
        return (reply.Header.Revision, lastChange, [.. kvs.Select(static kv => (kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), kv.CreateRevision))]);
    }
}

using Etcdserverpb;
using Google.Protobuf;
using Grpc.Core;

namespace FProxy.Etcd.Source;

/// <summary>One read of every key under <c>apps/</c>, at one revision (the source's start and re-reads, and --check).</summary>
internal static class AppRange
{
    public static async Task<(long Revision, IReadOnlyList<(string Key, string Value, long CreateRevision, long ModRevision)> Keys)> ReadAsync(
        EtcdConnection connection, Metadata? headers, CancellationToken cancellationToken)
    {
        var apps = EtcdLayout.AppsPrefix(connection.Options.NormalizedPrefix);
        var reply = await connection.Client.GetAsync(
            new RangeRequest { Key = ByteString.CopyFromUtf8(apps), RangeEnd = ByteString.CopyFromUtf8(EtcdLayout.RangeEnd(apps)) },
            headers,
            connection.RequestDeadline,
            cancellationToken).ConfigureAwait(false);
        return (reply.Header.Revision, [.. reply.Kvs.Select(static kv => (kv.Key.ToStringUtf8(), kv.Value.ToStringUtf8(), kv.CreateRevision, kv.ModRevision))]);
    }
}

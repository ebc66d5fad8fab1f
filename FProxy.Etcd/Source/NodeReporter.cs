using Etcdserverpb;
using FProxy.Daemon;
using Google.Protobuf;
using Grpc.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FProxy.Etcd.Source;

/// <summary>
/// Keeps <c>&lt;prefix&gt;/nodes/&lt;node-id&gt;</c> up to date on a lease kept alive, so the report
/// of a node that dies expires within the lease's TTL; a node that stops deletes it. Written when
/// its content changes (a rollout, readiness, rejected apps), checked every second.
/// </summary>
internal sealed class NodeReporter(
    EtcdConnection connection, EtcdConfigSubscriber source, ProxyDaemon daemon, ILogger<NodeReporter> logger, TimeProvider time) : BackgroundService
{
    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(1);

    /// <summary>How often the stored report is read back: another process with this node id (a handover) may have replaced or deleted it.</summary>
    private static readonly TimeSpan Verify = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan GoodbyeTimeout = TimeSpan.FromSeconds(2);

    private readonly string _key = EtcdLayout.NodeKey(connection.Options.NormalizedPrefix, connection.Options.NodeId);
    private long _lease;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var backoff = new Backoff(connection.Options.MaxBackoff, time);
        var failing = false;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                var endpoint = connection.Endpoint;
                try
                {
                    await ReportAsync(() => { backoff.Reset(); failing = false; }, stoppingToken).ConfigureAwait(false);
                }
#pragma warning disable CA1031 // Any failure is retried: an exception out of a hosted service would stop the host, and with it the proxy, over a report.
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
#pragma warning restore CA1031
                {
                    if (!failing)
                    {
                        // When the source has lost etcd too it has said so already: one warning per outage.
                        failing = true;
                        var reason = e is RpcException rpc ? rpc.Status.Detail : e.Message;
                        if (source.Connected)
                        {
                            EtcdLog.ReportFailed(logger, _key, endpoint, reason);
                        }
                        else
                        {
                            EtcdLog.ReportFailedQuietly(logger, _key, endpoint, reason);
                        }
                    }

                    if (e is RpcException { StatusCode: StatusCode.Unauthenticated })
                    {
                        connection.ResetToken();
                    }

                    connection.Failover(endpoint);
                    await backoff.WaitAsync(stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
        finally
        {
            await GoodbyeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>One lease: grant it, keep it alive, write the report whenever it changes; throws when the connection or the lease is lost.</summary>
    private async Task ReportAsync(Action connected, CancellationToken stoppingToken)
    {
        var headers = await connection.HeadersAsync(stoppingToken).ConfigureAwait(false);
        var ttl = (long)Math.Ceiling(connection.Options.LeaseTtl.TotalSeconds);
        var grant = await connection.Client.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl }, headers, connection.RequestDeadline, stoppingToken)
            .ConfigureAwait(false);
        Volatile.Write(ref _lease, grant.ID);
        EtcdLog.Reporting(logger, _key, grant.ID, grant.TTL);
        connected();

        using var lost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var keepAlive = connection.LeaseClient.LeaseKeepAlive(headers, cancellationToken: lost.Token);
        var keeping = KeepAliveAsync(keepAlive, grant.ID, TimeSpan.FromSeconds(Math.Max(1, grant.TTL) / 3.0), lost.Token);
        try
        {
            string? written = null;
            var verified = time.GetTimestamp();
            while (true)
            {
                var report = Build();
                var content = report with { Time = default };
                var json = content.ToJson();
                if (written is not null && time.GetElapsedTime(verified) >= Verify)
                {
                    verified = time.GetTimestamp();
                    if (!await IsStillOursAsync(headers, grant.ID, stoppingToken).ConfigureAwait(false))
                    {
                        written = null;
                    }
                }

                if (json != written)
                {
                    await connection.Client.PutAsync(
                        new PutRequest { Key = ByteString.CopyFromUtf8(_key), Value = ByteString.CopyFromUtf8(report.ToJson()), Lease = grant.ID },
                        headers,
                        connection.RequestDeadline,
                        stoppingToken).ConfigureAwait(false);
                    written = json;
                }

                var changed = source.Changes.WaitToReadAsync(stoppingToken).AsTask();
                await Task.WhenAny(changed, Task.Delay(Poll, time, stoppingToken), keeping).ConfigureAwait(false);
                if (keeping.IsCompleted)
                {
                    await keeping.ConfigureAwait(false);
                    throw new InvalidOperationException("the lease keepalive stream ended");
                }

                stoppingToken.ThrowIfCancellationRequested();
                source.Changes.TryRead(out _);
            }
        }
        finally
        {
            await lost.CancelAsync().ConfigureAwait(false);
            try
            {
                await keeping.ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or RpcException or InvalidOperationException)
            {
                // Ended with the lease.
            }
        }
    }

    /// <summary>Whether the stored report is still on this process's lease (a process taking over with the same node id, or its goodbye, may have changed that).</summary>
    private async Task<bool> IsStillOursAsync(Metadata? headers, long lease, CancellationToken cancellationToken)
    {
        var reply = await connection.Client.GetAsync(
            new RangeRequest { Key = ByteString.CopyFromUtf8(_key) }, headers, connection.RequestDeadline, cancellationToken).ConfigureAwait(false);
        return reply.Kvs.Count == 1 && reply.Kvs[0].Lease == lease;
    }

    /// <summary>Renews the lease every third of its TTL; throws when etcd says it has expired.</summary>
    private async Task KeepAliveAsync(AsyncDuplexStreamingCall<LeaseKeepAliveRequest, LeaseKeepAliveResponse> call, long lease, TimeSpan interval, CancellationToken cancellationToken)
    {
        while (true)
        {
            await call.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = lease }, cancellationToken).ConfigureAwait(false);
            if (!await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                throw new RpcException(new Status(StatusCode.Unavailable, "etcd closed the lease keepalive stream"));
            }

            if (call.ResponseStream.Current.TTL <= 0)
            {
                throw new RpcException(new Status(StatusCode.NotFound, $"lease {lease:x} expired"));
            }

            await Task.Delay(interval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private NodeReport Build()
    {
        var status = daemon.GetStatus();
        return new NodeReport(
            connection.Options.NodeId,
            source.AppliedRevision,
            status.Readiness.Ready,
            status.Version,
            status.Hash,
            status.Apps.Count,
            source.Errors,
            time.GetUtcNow());
    }

    /// <summary>A node that stops says so at once rather than leaving its report to expire.</summary>
    private async Task GoodbyeAsync()
    {
        var lease = Volatile.Read(ref _lease);
        if (lease == 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(GoodbyeTimeout);
        try
        {
            var headers = await connection.HeadersAsync(timeout.Token).ConfigureAwait(false);
            await connection.Client.LeaseRevokeAsync(new LeaseRevokeRequest { ID = lease }, headers, DateTime.UtcNow + GoodbyeTimeout, timeout.Token)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException or OperationCanceledException)
        {
            // etcd is away: the lease expires by itself.
        }
    }
}

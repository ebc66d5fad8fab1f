using System.Net.Sockets;
using FProxy.Routing;
using FProxy.Tests.Infrastructure;
using FProxy.Transport;
using Microsoft.Extensions.Time.Testing;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Transport;

/// <summary>
/// The sockets transport's idle sweep (<see cref="ConnectionGroup.CloseIdle"/>) over real pumps on a fake clock: what
/// counts as activity, and how an idle connection is closed.
/// </summary>
[CancelAfter(60_000)]
public sealed class ConnectionGroupTests
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    private FakeTimeProvider _time = null!;
    private PinnedBlockMemoryPool _pool = null!;
    private ConnectionGroup _group = null!;
    private DuplexPump _pump = null!;
    private readonly List<Socket> _sockets = [];

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        _pool = new PinnedBlockMemoryPool();
        _group = new ConnectionGroup(new AppRoute(App("idle", [1], "127.0.0.1:1") with { IdleTimeout = IdleTimeout }, _time), _time, 1, new FProxy.Transport.Sockets.SocketTransport(_time, _pool));
        _pump = new DuplexPump(_pool);
    }

    [TearDown]
    public void TearDown()
    {
        _sockets.ForEach(static s => s.Dispose());
        _pool.Dispose();
    }

    [Test]
    public async Task CloseIdle_SendPendingToASlowReaderStillTakingBytes_IsNotIdle(CancellationToken ct)
    {
        var (client, proxyTarget, target, run) = await StartSlowTargetAsync(ct);
        _ = Flood(client, ct);
        await Wait.UntilAsync(() => _pool.Outstanding >= 4, TimeSpan.FromSeconds(10), "the pipe to fill while the target is slow");

        // Every 3 s the target takes a few KB: a 16 KB send, then one of the whole 64 KB pipe,
        // stay pending for far longer than the IdleTimeout, yet bytes move all along.
        var buffer = new byte[1024];
        for (var step = 0; step < 20 && !_pump.IsAborted; step++)
        {
            // Read until the bytes really moved (the target acknowledged new ones): TCP reopens a
            // small window on its own time, not on the fake clock's.
            Assert.That(SocketSetup.TryGetBytesAcked(proxyTarget, out var before), Is.True, "TCP_INFO");
            var acked = before;
            while (acked == before)
            {
                Assert.That(await target.ReceiveAsync(buffer, SocketFlags.None, ct), Is.Positive, "data, not the end of the stream");
                SocketSetup.TryGetBytesAcked(proxyTarget, out acked);
            }

            _group.CloseIdle(_time);
            _time.Advance(TimeSpan.FromSeconds(3));
        }

        Assert.That(_pump.IsAborted, Is.False, "a reader still taking bytes is not idle");
        _pump.Abort();
        await run;
    }

    [Test]
    public async Task CloseIdle_BytesLeftUnsentToAReaderThatStopped_ResetsBothSides(CancellationToken ct)
    {
        var (client, _, target, run) = await StartSlowTargetAsync(ct);
        var flood = Flood(client, ct);
        await Wait.UntilAsync(() => _pool.Outstanding >= 4, TimeSpan.FromSeconds(10), "the pipe to fill while the target does not read");

        _group.CloseIdle(_time);
        _time.Advance(IdleTimeout + TimeSpan.FromSeconds(1));
        _group.CloseIdle(_time);

        // The pump holds bytes the target never got: a FIN would make the cut stream look complete.
        Assert.That(await Sockets.ReadEndAsync(target, ct), Is.EqualTo(SocketError.ConnectionReset), "the target is reset");
        // The client learns of its reset from whichever call meets it first: its blocked send or a read.
        Assert.That(new[] { await Sockets.ReadEndAsync(client, ct), await flood }, Does.Contain(SocketError.ConnectionReset), "the client is reset");
        Assert.That((await run).End, Is.EqualTo(PumpEnd.IdleTimeout));
    }

    [Test]
    public void Track_NewPump_IsNotIdleAtOnce()
    {
        // The sweep may run between Track and the pump's first stamp in RunAsync.
        _group.Track(_pump);
        _group.CloseIdle(_time);
        Assert.That(_pump.IsAborted, Is.False, "a connection that is just starting is not idle");
    }

    [Test]
    public async Task Track_PumpReusedAfterALongPause_IsNotIdleAtOnce(CancellationToken ct)
    {
        var (client, proxyClient) = await Sockets.PairAsync(ct);
        var (proxyTarget, target) = await Sockets.PairAsync(ct);
        _sockets.AddRange([client, target]);
        var run = _pump.RunAsync(proxyClient, proxyTarget, null, _time).AsTask();
        client.Shutdown(SocketShutdown.Send);
        target.Shutdown(SocketShutdown.Send);
        Assert.That((await run).End, Is.EqualTo(PumpEnd.Closed));
        _pump.Reset();
        Assert.That(_pump.LastActivity, Is.Zero, "a pump readied for reuse keeps no stamp of its last connection");

        // Pooled for longer than the IdleTimeout, then taken by a new connection.
        _time.Advance(IdleTimeout * 2);
        _group.Track(_pump);
        _group.CloseIdle(_time);
        Assert.That(_pump.IsAborted, Is.False, "the new connection is not judged by the old one's stamp");
    }

    /// <summary>A pump on the fake clock, tracked by the group, whose target reads through small buffers.</summary>
    private async Task<(Socket Client, Socket ProxyTarget, Socket Target, Task<PumpResult> Run)> StartSlowTargetAsync(CancellationToken ct)
    {
        var (client, proxyClient) = await Sockets.PairAsync(ct);
        var (proxyTarget, target) = await Sockets.PairAsync(clientSendBuffer: 4096, serverReceiveBuffer: 4096, ct);
        _sockets.AddRange([client, proxyClient, proxyTarget, target]);
        _group.Track(_pump);
        return (client, proxyTarget, target, _pump.RunAsync(proxyClient, proxyTarget, null, _time).AsTask());
    }

    /// <summary>Sends until the socket fails; returns how (Success when disposed or cancelled).</summary>
    private static async Task<SocketError> Flood(Socket socket, CancellationToken ct)
    {
        var chunk = new byte[64 * 1024];
        try
        {
            while (true)
            {
                await socket.SendAsync(chunk, SocketFlags.None, ct);
            }
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }
        catch (Exception e) when (e is ObjectDisposedException or OperationCanceledException)
        {
            return SocketError.Success;
        }
    }
}

using System.Net.Sockets;
using System.Security.Cryptography;
using FProxy.Tests.Infrastructure;
using FProxy.Transport;

namespace FProxy.Tests.Transport;

[CancelAfter(60_000)]
public sealed class DuplexPumpTests
{
    private PinnedBlockMemoryPool _pool = null!;
    private Socket _client = null!;
    private Socket _proxyClientSide = null!;
    private Socket _proxyTargetSide = null!;
    private Socket _target = null!;
    private DuplexPump _pump = null!;

    [SetUp]
    public async Task SetUp()
    {
        _pool = new PinnedBlockMemoryPool();
        (_client, _proxyClientSide) = await Sockets.PairAsync();
        (_proxyTargetSide, _target) = await Sockets.PairAsync();
        _pump = new DuplexPump(_pool);
    }

    [TearDown]
    public void TearDown()
    {
        _client.Dispose();
        _proxyClientSide.Dispose();
        _proxyTargetSide.Dispose();
        _target.Dispose();
        _pool.Dispose();
    }

    private ValueTask<PumpResult> Run() => _pump.RunAsync(_proxyClientSide, _proxyTargetSide);

    [Test]
    public async Task RunAsync_ClientHalfCloses_TargetSeesFinAndCanStillReply(CancellationToken ct)
    {
        var run = Run().AsTask();
        await _client.SendAsync("request"u8.ToArray(), SocketFlags.None, ct);
        _client.Shutdown(SocketShutdown.Send);

        Assert.That(await Sockets.ReadAsync(_target, 7, ct), Is.EqualTo("request"u8.ToArray()));
        Assert.That(await Sockets.ReadEndAsync(_target, ct), Is.EqualTo(SocketError.Success), "target sees FIN");

        // The other direction is independent: the target still answers after the client's FIN.
        await _target.SendAsync("response"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(_client, 8, ct), Is.EqualTo("response"u8.ToArray()));
        Assert.That(run.IsCompleted, Is.False, "one FIN does not end the connection");

        _target.Shutdown(SocketShutdown.Send);
        Assert.That(await Sockets.ReadEndAsync(_client, ct), Is.EqualTo(SocketError.Success), "client sees FIN");
        var result = await run;
        Assert.That(result, Is.EqualTo(new PumpResult(7, 8, PumpEnd.Closed)));
    }

    [Test]
    public async Task RunAsync_TargetHalfCloses_ClientSeesFinAndCanStillSend(CancellationToken ct)
    {
        var run = Run().AsTask();
        _target.Shutdown(SocketShutdown.Send);
        Assert.That(await Sockets.ReadEndAsync(_client, ct), Is.EqualTo(SocketError.Success));

        await _client.SendAsync("late"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(_target, 4, ct), Is.EqualTo("late"u8.ToArray()));
        _client.Shutdown(SocketShutdown.Send);
        Assert.That(await Sockets.ReadEndAsync(_target, ct), Is.EqualTo(SocketError.Success));
        Assert.That((await run).End, Is.EqualTo(PumpEnd.Closed));
    }

    [Test]
    public async Task RunAsync_TargetResets_ClientIsReset(CancellationToken ct)
    {
        var run = Run().AsTask();
        await _client.SendAsync("x"u8.ToArray(), SocketFlags.None, ct);
        await Sockets.ReadAsync(_target, 1, ct);
        _target.LingerState = new LingerOption(true, 0);
        _target.Close();

        Assert.That(await Sockets.ReadEndAsync(_client, ct), Is.EqualTo(SocketError.ConnectionReset));
        Assert.That((await run).End, Is.EqualTo(PumpEnd.TargetReset));
    }

    [Test]
    public async Task RunAsync_ClientResets_TargetIsReset(CancellationToken ct)
    {
        var run = Run().AsTask();
        _client.LingerState = new LingerOption(true, 0);
        _client.Close();

        Assert.That(await Sockets.ReadEndAsync(_target, ct), Is.EqualTo(SocketError.ConnectionReset));
        Assert.That((await run).End, Is.EqualTo(PumpEnd.ClientReset));
    }

    [Test]
    public async Task Abort_ResetsBothSides(CancellationToken ct)
    {
        var run = Run().AsTask();
        _pump.Abort();
        Assert.That(await Sockets.ReadEndAsync(_client, ct), Is.EqualTo(SocketError.ConnectionReset));
        Assert.That(await Sockets.ReadEndAsync(_target, ct), Is.EqualTo(SocketError.ConnectionReset));
        Assert.That((await run).End, Is.EqualTo(PumpEnd.Aborted));
    }

    [Test]
    public async Task Abort_AfterBothDirectionsEndedWithAFin_ResetsNothing(CancellationToken ct)
    {
        // The send loops resume through this scheduler: when the last one has passed its FIN on
        // and returned, and before RunAsync closes the sockets, a drain deadline strikes.
        var scheduler = new ThenScheduler();
        var inline = DuplexPump.CreatePipeOptions(_pool);
        var pump = new DuplexPump(new System.IO.Pipelines.PipeOptions(
            inline.Pool, scheduler, inline.WriterScheduler, inline.PauseWriterThreshold, inline.ResumeWriterThreshold,
            inline.MinimumSegmentSize, inline.UseSynchronizationContext));
        var run = pump.RunAsync(_proxyClientSide, _proxyTargetSide).AsTask();
        _target.Shutdown(SocketShutdown.Send);
        Assert.That(await Sockets.ReadEndAsync(_client, ct), Is.EqualTo(SocketError.Success), "the target's FIN passed on");

        // That FIN went out from the first continuation through the scheduler (no byte moved
        // before): only once it has returned is the next one the other direction's last.
        await Wait.UntilAsync(() => scheduler.Ran == 1, TimeSpan.FromSeconds(10), "the finished direction's send loop to return");
        var aborts = 0;
        scheduler.Then = () =>
        {
            aborts++;
            pump.Abort();
        };
        _client.Shutdown(SocketShutdown.Send);

        Assert.That(await Sockets.ReadEndAsync(_target, ct), Is.EqualTo(SocketError.Success), "the client's FIN, not a reset");
        Assert.That((await run).End, Is.EqualTo(PumpEnd.Closed));
        Assert.That(aborts, Is.EqualTo(1), "the abort came, once the last send loop had run");
    }

    [Test]
    public async Task RunAsync_TargetResetBeforeTheClientsBytesWentOut_CountsNoneOfThem(CancellationToken ct)
    {
        await _client.SendAsync(new byte[1000], SocketFlags.None, ct);
        _target.LingerState = new LingerOption(true, 0);
        _target.Close();
        await Wait.UntilAsync(() => _proxyTargetSide.Poll(0, SelectMode.SelectRead), TimeSpan.FromSeconds(10), "the target's reset to arrive");
        var counter = new FProxy.Balancing.TargetState(new FProxy.Configuration.TargetConfig("127.0.0.1", 1));

        // The pump receives the client's 1000 bytes at once, then fails to send them.
        var result = await _pump.RunAsync(_proxyClientSide, _proxyTargetSide, counter);

        Assert.That(result.End, Is.EqualTo(PumpEnd.TargetReset));
        Assert.That(result.ClientToTarget, Is.Zero, "received, never sent: not counted");
        Assert.That(counter.BytesClientToTarget, Is.Zero);
    }

    [Test]
    public async Task RunAsync_64MiBEachWay_ArrivesIntactAndReturnsEveryBuffer(CancellationToken ct)
    {
        const int size = 64 * 1024 * 1024;
        var run = Run().AsTask();
        var up = Transfer(_client, _target, size, seed: 1, ct);
        var down = Transfer(_target, _client, size, seed: 2, ct);
        var (sentUp, receivedUp) = await up;
        var (sentDown, receivedDown) = await down;

        Assert.That(receivedUp, Is.EqualTo(sentUp), "client -> target SHA-256");
        Assert.That(receivedDown, Is.EqualTo(sentDown), "target -> client SHA-256");
        var result = await run;
        Assert.That(result, Is.EqualTo(new PumpResult(size, size, PumpEnd.Closed)));
        _pump.Reset();
        Assert.That(_pool.Outstanding, Is.Zero, "every rented block returned");
    }

    [Test]
    public async Task RunAsync_IdleConnection_HoldsNoRentedBuffer(CancellationToken ct)
    {
        var run = Run().AsTask();
        for (var i = 0; i < 3; i++)
        {
            await _client.SendAsync(new byte[1000], SocketFlags.None, ct);
            await Sockets.ReadAsync(_target, 1000, ct);
            await _target.SendAsync(new byte[1000], SocketFlags.None, ct);
            await Sockets.ReadAsync(_client, 1000, ct);
        }

        // Data flowed both ways; once it is delivered the pump waits with zero-byte receives.
        await Wait.UntilAsync(() => _pool.Outstanding == 0, TimeSpan.FromSeconds(10), "an idle connection to hold no block");
        Assert.That(_pool.Allocated, Is.GreaterThan(0), "blocks were used while data flowed");
        Assert.That(run.IsCompleted, Is.False);

        _client.Shutdown(SocketShutdown.Send);
        _target.Shutdown(SocketShutdown.Send);
        await run;
    }

    [Test]
    public async Task RunAsync_SlowReader_BackpressureBoundsBufferedBytes(CancellationToken ct)
    {
        var run = Run().AsTask();
        _target.ReceiveBufferSize = 4096;
        var sendTask = Task.Run(async () =>
        {
            var chunk = new byte[64 * 1024];
            for (var i = 0; i < 256; i++)
            {
                await _client.SendAsync(chunk, SocketFlags.None, ct);
            }
        }, ct);

        // Nobody reads at the target: the client's sends must stall, with little held by the proxy.
        await Wait.UntilAsync(() => _pool.Outstanding > 0, TimeSpan.FromSeconds(10), "data to be buffered");
        await Task.WhenAny(sendTask, Task.Delay(500, ct));
        Assert.That(sendTask.IsCompleted, Is.False, "the sender is held back");
        Assert.That(_pool.Outstanding * PinnedBlockMemoryPool.DefaultBlockSize, Is.LessThanOrEqualTo(256 * 1024), "pipe threshold bounds the proxy's buffer");

        _pump.Abort();
        await run;
        try
        {
            await sendTask;
        }
        catch (SocketException)
        {
        }
    }

    [Test]
    public async Task Abort_WhileDataFlowsBothWays_RunEndsCleanlyAndReturnsEveryBlock(CancellationToken ct)
    {
        // Abort lands between socket operations too, where a loop meets an already closed
        // socket: that must end the run like any reset, never throw or leak a block.
        for (var i = 0; i < 50; i++)
        {
            var (client, proxyClient) = await Sockets.PairAsync(ct);
            var (proxyTarget, target) = await Sockets.PairAsync(ct);
            using (client)
            using (target)
            {
                var run = _pump.RunAsync(proxyClient, proxyTarget).AsTask();
                var chunk = new byte[32 * 1024];
                _ = Flood(client, chunk, ct);
                _ = Flood(target, chunk, ct);
                await Task.Delay(i % 5, ct);
                _pump.Abort();
                var result = await run;
                Assert.That(result.End, Is.EqualTo(PumpEnd.Aborted).Or.EqualTo(PumpEnd.ClientReset).Or.EqualTo(PumpEnd.TargetReset));
                Assert.That(_pump.Failure, Is.Null, "no unexpected exception inside the pump");
                _pump.Reset();
                Assert.That(_pool.Outstanding, Is.Zero, $"iteration {i}: every block returned");
            }
        }

        static async Task Flood(Socket socket, byte[] chunk, CancellationToken ct)
        {
            try
            {
                while (true)
                {
                    await socket.SendAsync(chunk, SocketFlags.None, ct);
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
            {
            }
        }
    }

    /// <summary>Runs each continuation inline, then <see cref="Then"/>; counts those done.</summary>
    private sealed class ThenScheduler : System.IO.Pipelines.PipeScheduler
    {
        private int _ran;

        public Action? Then { get; set; }

        public int Ran => Volatile.Read(ref _ran);

        public override void Schedule(Action<object?> action, object? state)
        {
            action(state);
            Then?.Invoke();
            Interlocked.Increment(ref _ran);
        }
    }

    private static async Task<(byte[] Sent, byte[] Received)> Transfer(Socket from, Socket to, int size, int seed, CancellationToken ct)
    {
        var send = Task.Run(async () =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var random = new Random(seed);
            var chunk = new byte[256 * 1024];
            for (var sent = 0; sent < size; sent += chunk.Length)
            {
                random.NextBytes(chunk);
                hash.AppendData(chunk);
                await from.SendAsync(chunk, SocketFlags.None, ct);
            }

            from.Shutdown(SocketShutdown.Send);
            return hash.GetHashAndReset();
        }, ct);
        var receive = Task.Run(async () =>
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[256 * 1024];
            var total = 0L;
            int n;
            while ((n = await to.ReceiveAsync(buffer, SocketFlags.None, ct)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                total += n;
            }

            Assert.That(total, Is.EqualTo(size));
            return hash.GetHashAndReset();
        }, ct);
        return (await send, await receive);
    }
}

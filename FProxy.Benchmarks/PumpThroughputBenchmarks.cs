using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using FProxy.Benchmarks.Infrastructure;
using FProxy.Transport;

namespace FProxy.Benchmarks;

/// <summary>
/// Bulk throughput of one long-lived connection through <see cref="DuplexPump"/>, against the same
/// transfer over a plain loopback socket pair. One operation moves <see cref="PayloadBytes"/> from
/// client to target (OneWay), or that much each way at once (BothWays); the MB/s column divides
/// the bytes moved by the mean time. The connection stays open across operations, so "Allocated"
/// per operation is what the pump allocates per packet (plus the harness's few tasks, which Direct
/// shows on its own): it must not grow with the payload.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(ThroughputColumn.Config))]
public class PumpThroughputBenchmarks
{
    public const int PayloadBytes = 64 * 1024 * 1024;

    // 64 KiB writes and reads: a loopback socket buffer's worth, as an application would use.
    private const int ChunkBytes = 64 * 1024;

    private readonly byte[] _chunk = new byte[ChunkBytes];
    private readonly byte[] _receiveA = new byte[ChunkBytes];
    private readonly byte[] _receiveB = new byte[ChunkBytes];
    private PinnedBlockMemoryPool _pool = null!;
    private Socket _directClient = null!;
    private Socket _directServer = null!;
    private Socket _client = null!;
    private Socket _proxyClientSide = null!;
    private Socket _proxyTargetSide = null!;
    private Socket _target = null!;
    private Task<PumpResult> _pumping = null!;

    public enum Flow
    {
        OneWay,
        BothWays,
    }

    [Params(Flow.OneWay, Flow.BothWays)]
    public Flow Direction { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        Random.Shared.NextBytes(_chunk);
        (_directClient, _directServer) = await LoopbackPair.CreateAsync().ConfigureAwait(false);
        (_client, _proxyClientSide) = await LoopbackPair.CreateAsync().ConfigureAwait(false);
        (_proxyTargetSide, _target) = await LoopbackPair.CreateAsync().ConfigureAwait(false);
        _pool = new PinnedBlockMemoryPool();
        _pumping = new DuplexPump(_pool).RunAsync(_proxyClientSide, _proxyTargetSide).AsTask();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        // FIN both ways ends the pump cleanly (it closes its two sockets itself).
        _client.Shutdown(SocketShutdown.Send);
        _target.Shutdown(SocketShutdown.Send);
        var result = await _pumping.ConfigureAwait(false);
        if (result.End != PumpEnd.Closed)
        {
            throw new InvalidOperationException($"The pump ended with {result.End}.");
        }

        _client.Dispose();
        _target.Dispose();
        _directClient.Dispose();
        _directServer.Dispose();
        _pool.Dispose();
    }

    [Benchmark(Baseline = true)]
    public Task Direct() => TransferAsync(_directClient, _directServer);

    [Benchmark]
    public Task Pump() => TransferAsync(_client, _target);

    /// <summary>Bytes one operation moves (both directions added up).</summary>
    public static long BytesPerOperation(Flow direction) => direction == Flow.BothWays ? 2L * PayloadBytes : PayloadBytes;

    private Task TransferAsync(Socket client, Socket server)
    {
        var toServer = LoopbackPair.SendAsync(client, _chunk, PayloadBytes);
        var atServer = LoopbackPair.ReceiveAsync(server, _receiveA, PayloadBytes);
        if (Direction == Flow.OneWay)
        {
            return Task.WhenAll(toServer, atServer);
        }

        var toClient = LoopbackPair.SendAsync(server, _chunk, PayloadBytes);
        var atClient = LoopbackPair.ReceiveAsync(client, _receiveB, PayloadBytes);
        return Task.WhenAll(toServer, atServer, toClient, atClient);
    }
}

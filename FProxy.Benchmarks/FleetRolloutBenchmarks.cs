using System.Globalization;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using Etcdserverpb;
using FProxy.Benchmarks.Infrastructure;
using FProxy.Daemon;
using FProxy.Etcd;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;

namespace FProxy.Benchmarks;

/// <summary>
/// How long a change of one app among <see cref="Apps"/> stored in etcd takes to reach traffic:
/// from the reply to the etcd write (made in the iteration's setup) to the first new connection through
/// that app's port that reaches the new target. An in-process daemon follows a real etcd (Debian's
/// etcd-server) through <see cref="EtcdConfigSubscriber"/>, one port per app; each operation moves
/// the app to the other of two targets and connects until a connection lands there.
/// </summary>
/// <remarks>Needs etcd installed; not part of the CI pass (see CiSubset).</remarks>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 5, iterationCount: 50, invocationCount: 1)]
[MinColumn]
[MaxColumn]
[MedianColumn]
[MemoryDiagnoser]
public class FleetRolloutBenchmarks
{
    private const string Prefix = "/bench";
    private readonly byte[] _tag = new byte[1];
    private EtcdProcess _etcd = null!;
    private EtcdConnection _writer = null!;
    private EtcdConnection _reader = null!;
    private ProxyDaemon _daemon = null!;
    private CancellationTokenSource _stop = null!;
    private Task _following = null!;
    private EchoBackend _first = null!;
    private EchoBackend _second = null!;
    private int[] _ports = null!;
    private bool _onSecond;
    private byte _expected;

    [Params(1000)]
    public int Apps { get; set; }

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _etcd = new EtcdProcess();
        var options = new EtcdOptions { Endpoints = [new Uri(_etcd.Endpoint)], Prefix = Prefix };
        _writer = new EtcdConnection(options);
        _reader = new EtcdConnection(options);
        _first = new EchoBackend(greeting: (byte)'1');
        _second = new EchoBackend(greeting: (byte)'2');
        _ports = [.. Enumerable.Range(0, Apps).Select(static _ => EtcdProcess.FreePort()).Distinct()];

        // etcd takes at most 128 operations per transaction by default: store in batches.
        foreach (var batch in _ports.Select((port, i) => (port, i)).Chunk(100))
        {
            var txn = new TxnRequest();
            foreach (var (port, i) in batch)
            {
                txn.Success.Add(new RequestOp { RequestPut = Put(i, port, _first.Target) });
            }

            await _writer.Client.TransactionAsync(txn).ConfigureAwait(false);
        }

        _daemon = new ProxyDaemon(new ProxyDaemonOptions());
        var source = new EtcdConfigSubscriber(_reader, NullLogger<EtcdConfigSubscriber>.Instance);
        _stop = new CancellationTokenSource();
        _following = Task.Run(async () =>
        {
            await foreach (var config in source.WatchAsync(_daemon, _stop.Token).ConfigureAwait(false))
            {
                await _daemon.TryApplyAsync(config, _stop.Token).ConfigureAwait(false);
            }
        });

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (_daemon.BoundPorts.Count < _ports.Length)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"only {_daemon.BoundPorts.Count} of {_ports.Length} ports bound");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }

        if (await TagAsync(Changed).ConfigureAwait(false) != '1')
        {
            throw new InvalidOperationException("the app does not reach its first target");
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _following.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        await _daemon.DisposeAsync().ConfigureAwait(false);
        _writer.Dispose();
        _reader.Dispose();
        _etcd.Dispose();
        await _first.DisposeAsync().ConfigureAwait(false);
        await _second.DisposeAsync().ConfigureAwait(false);
    }

    private int Changed => _ports[_ports.Length / 2];

    /// <summary>
    /// Moves the app in the middle to the other target, before the measured operation: the
    /// timing starts at the write's reply (etcd's own commit, an fsync, is not FProxy's).
    /// </summary>
    [IterationSetup]
    public void WriteTheChange()
    {
        _onSecond = !_onSecond;
        _expected = _onSecond ? (byte)'2' : (byte)'1';
        var target = _onSecond ? _second.Target : _first.Target;
        _writer.Client.PutAsync(Put(_ports.Length / 2, Changed, target)).GetAwaiter().GetResult();
    }

    /// <summary>Connects through the changed app's port until a connection reaches its new target.</summary>
    [Benchmark(Description = "one app of many changed in etcd: write reply to first connection on the new target")]
    public async Task FirstConnectionOnTheNewTargetAsync()
    {
        while (await TagAsync(Changed).ConfigureAwait(false) != _expected)
        {
        }
    }

    private static PutRequest Put(int index, int port, string target) => new()
    {
        Key = ByteString.CopyFromUtf8(EtcdLayout.AppKey(Prefix, "app" + index.ToString(CultureInfo.InvariantCulture))),
        Value = ByteString.CopyFromUtf8(
            $"{{\"Name\":\"app{index.ToString(CultureInfo.InvariantCulture)}\",\"Ports\":[{port.ToString(CultureInfo.InvariantCulture)}],\"Targets\":[\"{target}\"],\"Bind\":\"127.0.0.1\"}}"),
    };

    private async Task<int> TagAsync(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port)).ConfigureAwait(false);
        var read = await socket.ReceiveAsync(_tag, SocketFlags.None).ConfigureAwait(false);
        return read == 1 ? _tag[0] : -1;
    }
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using FProxy.Benchmarks.Infrastructure;
using FProxy.Configuration;
using FProxy.Daemon;

namespace FProxy.Benchmarks;

/// <summary>
/// A start with many ports: the config text of <see cref="Apps"/> apps with a range of
/// <see cref="PortsPerApp"/> ports each is parsed, validated and applied to a new daemon, until
/// every port listens. The target is under a second for 1,000 ports across 100 apps.
/// </summary>
/// <remarks>One start per iteration, a new daemon each time; not part of the CI pass.</remarks>
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 2, iterationCount: 15, invocationCount: 1)]
[MinColumn]
[MaxColumn]
[MedianColumn]
[MemoryDiagnoser]
public class StartupBindBenchmarks
{
    private string _json = null!;
    private ProxyDaemon _daemon = null!;
    private EchoBackend _target = null!;

    [Params(100)]
    public int Apps { get; set; }

    [Params(10)]
    public int PortsPerApp { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _target = new EchoBackend();
        var json = new StringBuilder("{\"Apps\":[");
        var first = FirstPort();
        for (var app = 0; app < Apps; app++)
        {
            var low = first + (app * PortsPerApp);
            json.Append(CultureInfo.InvariantCulture,
                $"{(app == 0 ? "" : ",")}{{\"Name\":\"app{app}\",\"Bind\":\"127.0.0.1\",\"Ports\":[\"{low}-{low + PortsPerApp - 1}\"],\"Targets\":[\"{_target.Target}\"]}}");
        }

        _json = json.Append("]}").ToString();
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _target.DisposeAsync().ConfigureAwait(false);

    [IterationSetup]
    public void NewDaemon() => _daemon = new ProxyDaemon(new ProxyDaemonOptions());

    [IterationCleanup]
    public void StopDaemon() => _daemon.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark]
    public async Task ParseAndBindAll()
    {
        await _daemon.ApplyAsync(ConfigParser.Parse(_json)).ConfigureAwait(false);
        var expected = Apps * PortsPerApp;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_daemon.BoundPorts.Count < expected)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"only {_daemon.BoundPorts.Count} of {expected} ports bound");
            }

            await Task.Yield();
        }
    }

    /// <summary>
    /// The first of <see cref="Apps"/> x <see cref="PortsPerApp"/> consecutive free loopback ports,
    /// below Linux's ephemeral range so that no connection takes one meanwhile.
    /// </summary>
    private int FirstPort()
    {
        var needed = Apps * PortsPerApp;
        for (var first = 20_000; first + needed <= 32_000; first += needed)
        {
            if (Enumerable.Range(first, needed).All(IsFree))
            {
                return first;
            }
        }

        throw new InvalidOperationException($"no {needed} consecutive free ports between 20000 and 32000");
    }

    private static bool IsFree(int port)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

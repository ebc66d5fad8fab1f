using System.Net;
using BenchmarkDotNet.Attributes;
using FProxy.Benchmarks.Ci;
using FProxy.Benchmarks.Infrastructure;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.ProxyProtocol;

namespace FProxy.Benchmarks;

/// <summary>
/// What PROXY protocol headers add to a new connection, end to end: connect, send one byte, read
/// its echo, close, through two daemons in a row (a load balancer's and a node's). Plain has no
/// header anywhere. Headers: the client sends a v2 header, the first daemon accepts it and sends
/// one on (the received addresses), the second accepts that one. Same hops, same backend: the
/// difference is two header reads and one write, in time and in bytes allocated.
/// </summary>
[MemoryDiagnoser]
[AllocationTolerance(ConnectLatencyBenchmarks.AllocationNoiseBytes)]
public class ProxyProtocolConnectBenchmarks
{
    private readonly SourceAddresses _sources = new();
    private readonly byte[] _reply = new byte[1];
    private byte[] _withHeader = null!;
    private EchoBackend _echo = null!;
    private ProxyDaemon _front = null!;
    private ProxyDaemon _node = null!;
    private ProxyDaemon _plainFront = null!;
    private ProxyDaemon _plainNode = null!;
    private IPEndPoint _headers = null!;
    private IPEndPoint _plain = null!;

    /// <summary>The daemons' transport: epoll where it is supported, and the runtime's sockets.</summary>
    [ParamsSource(nameof(Transports))]
    public ProxyTransport Transport { get; set; }

    public static IEnumerable<ProxyTransport> Transports => ConnectLatencyBenchmarks.Transports;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _echo = new EchoBackend();
        (_plainFront, _plainNode, _plain) = await ChainAsync(headers: false).ConfigureAwait(false);
        (_front, _node, _headers) = await ChainAsync(headers: true).ConfigureAwait(false);
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        var length = ProxyHeaderWriter.Write(buffer, 2, IPEndPoint.Parse("203.0.113.7:5555"), _headers);
        _withHeader = [.. buffer.AsSpan(0, length), 42];

        // Fail here, not in the middle of a measurement, if either chain does not echo.
        await RoundTripAsync(_plain, [42]).ConfigureAwait(false);
        await RoundTripAsync(_headers, _withHeader).ConfigureAwait(false);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        foreach (var daemon in new[] { _front, _node, _plainFront, _plainNode })
        {
            await daemon.DisposeAsync().ConfigureAwait(false);
        }

        await _echo.DisposeAsync().ConfigureAwait(false);
    }

    [Benchmark(Baseline = true)]
    public Task<int> Plain() => RoundTripAsync(_plain, [42]);

    [Benchmark]
    public Task<int> Headers() => RoundTripAsync(_headers, _withHeader);

    private async Task<(ProxyDaemon Front, ProxyDaemon Node, IPEndPoint EndPoint)> ChainAsync(bool headers)
    {
        var node = new ProxyDaemon(new ProxyDaemonOptions { Transport = Transport });
        var front = new ProxyDaemon(new ProxyDaemonOptions { Transport = Transport });
        var nodePort = await ConnectLatencyBenchmarks.BindProxyAsync(node, port =>
            ConnectLatencyBenchmarks.App("node", port, _echo.EndPoint.Port) with { AcceptProxyProtocol = headers }).ConfigureAwait(false);
        var frontPort = await ConnectLatencyBenchmarks.BindProxyAsync(front, port =>
            ConnectLatencyBenchmarks.App("front", port, nodePort) with
            {
                AcceptProxyProtocol = headers,
                ProxyProtocol = headers ? ProxyProtocolVersion.V2 : ProxyProtocolVersion.None,
            }).ConfigureAwait(false);
        return (front, node, new IPEndPoint(IPAddress.Loopback, frontPort));
    }

    private Task<int> RoundTripAsync(IPEndPoint endPoint, byte[] message) =>
        ConnectLatencyBenchmarks.RoundTripAsync(_sources, endPoint, message, _reply);
}

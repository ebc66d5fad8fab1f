using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using FProxy.Benchmarks.Ci;
using FProxy.Benchmarks.Infrastructure;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Transport.Linux;
using FProxy.Transport.Sockets;

namespace FProxy.Benchmarks;

/// <summary>
/// Client connect plus first echo round trip: connect, send one byte, read its echo, close.
/// Direct goes to the echo backend; ThroughProxy goes through an in-process ProxyDaemon (listener
/// on 127.0.0.1, one IP-literal target, so no DNS) to the same backend. The difference is what the
/// proxy adds to a new connection: accept, target connect, pump start, one hop each way. The
/// daemon runs on each <see cref="Transport"/> in turn (Direct does not use it, and runs once per
/// value only to keep its Ratio baseline next to each).
/// </summary>
/// <remarks>
/// The memory diagnoser counts the whole process, so ThroughProxy's "Allocated" includes the
/// proxy's per-connection allocations (and the echo backend's, which Direct has too).
/// Clients rotate over 16 source addresses (see <see cref="SourceAddresses"/>): each operation
/// leaves a TIME_WAIT socket behind. The proxy's own target connections also end in TIME_WAIT
/// (it forwards the client's FIN first); Linux reuses those on loopback (tcp_tw_reuse=2).
/// </remarks>
[MemoryDiagnoser]
[AllocationTolerance(AllocationNoiseBytes)]
public class ConnectLatencyBenchmarks
{
    /// <summary>
    /// How far "Allocated" moves between CI passes with nothing changed. Over 12 passes on the
    /// 2-core dev VM (quiet, beside another engineer's tests, under two busy loops, beside a
    /// rebuild) it ranged 3466-3886 B (Direct), 4095-4449 B (ThroughProxy, epoll) and 6242-7180 B
    /// (ThroughProxy, sockets): at most 938 B from lowest to highest, 630 B from the median. It is
    /// not a leak but timing: an async method or socket operation that completes asynchronously
    /// boxes its state (about 100-400 B), and whether the peer was faster depends on scheduling
    /// (the passes split into modes about 380 B apart). 1 KiB covers the widest range seen;
    /// smaller per-connection regressions are for a longer run than CI's to find.
    /// </summary>
    internal const int AllocationNoiseBytes = 1024;

    private readonly SourceAddresses _sources = new();
    private readonly byte[] _message = [42];
    private readonly byte[] _reply = new byte[1];
    private EchoBackend _echo = null!;
    private ProxyDaemon _proxy = null!;
    private IPEndPoint _proxyEndPoint = null!;

    /// <summary>The daemon's transport: epoll where it is supported, and the runtime's sockets.</summary>
    [ParamsSource(nameof(Transports))]
    public ProxyTransport Transport { get; set; }

    public static IEnumerable<ProxyTransport> Transports =>
        EpollTransport.IsSupported ? [ProxyTransport.Epoll, ProxyTransport.Sockets] : [ProxyTransport.Sockets];

    [GlobalSetup]
    public async Task SetupAsync()
    {
        _echo = new EchoBackend();
        _proxy = new ProxyDaemon(new ProxyDaemonOptions { Transport = Transport });
        var expected = Transport == ProxyTransport.Epoll ? typeof(EpollTransport) : typeof(SocketTransport);
        if (_proxy.Transport.GetType() != expected)
        {
            throw new InvalidOperationException($"The daemon runs {_proxy.Transport.GetType().Name}, not the {Transport} transport.");
        }

        var port = await BindProxyAsync(_proxy, port => App("bench", port, _echo.EndPoint.Port)).ConfigureAwait(false);
        _proxyEndPoint = new IPEndPoint(IPAddress.Loopback, port);

        // Fail here, not in the middle of a measurement, if either path does not echo.
        await RoundTripAsync(_echo.EndPoint).ConfigureAwait(false);
        await RoundTripAsync(_proxyEndPoint).ConfigureAwait(false);
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _proxy.DisposeAsync().ConfigureAwait(false);
        await _echo.DisposeAsync().ConfigureAwait(false);
    }

    [Benchmark(Baseline = true)]
    public Task<int> Direct() => RoundTripAsync(_echo.EndPoint);

    [Benchmark]
    public Task<int> ThroughProxy() => RoundTripAsync(_proxyEndPoint);

    private Task<int> RoundTripAsync(IPEndPoint endPoint) => RoundTripAsync(_sources, endPoint, _message, _reply);

    /// <summary>One client from <paramref name="sources"/>: connect, send <paramref name="message"/>, read a 1-byte echo into <paramref name="reply"/>, close.</summary>
    internal static async Task<int> RoundTripAsync(SourceAddresses sources, IPEndPoint endPoint, byte[] message, byte[] reply)
    {
        using var socket = sources.NewSocket();
        await socket.ConnectAsync(endPoint).ConfigureAwait(false);
        await socket.SendAsync(message, SocketFlags.None).ConfigureAwait(false);
        var n = await socket.ReceiveAsync(reply, SocketFlags.None).ConfigureAwait(false);
        if (n != 1)
        {
            throw new InvalidOperationException($"Expected a 1-byte echo from {endPoint}, got {n} bytes.");
        }

        return reply[0];
    }

    /// <summary>An app on 127.0.0.1:<paramref name="port"/> forwarding to 127.0.0.1:<paramref name="targetPort"/> (no DNS).</summary>
    internal static AppConfig App(string name, int port, int targetPort) => new()
    {
        Name = name,
        Ports = new EquatableList<int>([port]),
        Targets = new EquatableList<TargetConfig>([new TargetConfig("127.0.0.1", targetPort)]),
        Bind = IPAddress.Loopback,
    };

    /// <summary>
    /// Binds the proxy to a free port (found by binding port 0 and closing it) with the config
    /// <paramref name="configFor"/> makes for it. Another process may take the port in between,
    /// and SO_REUSEPORT would not stop it: the daemon then retries in the background and the port
    /// is not bound, so try another.
    /// </summary>
    internal static async Task<int> BindProxyAsync(ProxyDaemon proxy, Func<int, AppConfig> configFor)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var port = FreePort();
            await proxy.ApplyAsync(new ProxyConfig { Apps = new EquatableList<AppConfig>([configFor(port)]) }).ConfigureAwait(false);
            if (proxy.BoundPorts.Contains(port))
            {
                return port;
            }
        }

        throw new InvalidOperationException("Could not bind the proxy to a free loopback port.");
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }
}

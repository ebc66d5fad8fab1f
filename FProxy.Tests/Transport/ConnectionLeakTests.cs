using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FProxy.Tests.Daemon;
using FProxy.Tests.Infrastructure;
using FProxy.Transport;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Transport;

/// <summary>
/// Thousands of connections that end badly must leave nothing behind: no counted connection, no
/// rented block, no descriptor.
/// </summary>
[CancelAfter(90_000)]
[NonParallelizable]
public sealed class ConnectionLeakTests
{
    private const int Connections = 10_000;
    private const int Concurrency = 100;

    /// <summary>Client sources 127.0.0.2-127.0.0.20, so TIME_WAIT never exhausts one address's ephemeral ports.</summary>
    private const int FirstSource = 2;
    private const int Sources = 19;

    /// <summary>Descriptors the runtime may open on its own meanwhile (thread pool, lazily loaded code).</summary>
    private const int FdMargin = 16;

    private enum Abort
    {
        ClientResetsAtOnce,
        ClientSendsThenResets,
        TargetResets,
        TargetRefuses,
    }

    [Test]
    public async Task Daemon_TenThousandAbortedConnections_LeavesNoConnectionBlockOrDescriptor(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var resetter = EchoServer.Resetting();
        var pool = new PinnedBlockMemoryPool();
        await using var daemon = DaemonFixture.Create(pool: pool);
        var ports = FreePorts(3);
        Assume.That(ports, Has.Length.EqualTo(3));
        await daemon.ApplyAsync(Config(
            App("echo", [ports[0]], echo.Target),
            App("resetting", [ports[1]], resetter.Target),
            App("refusing", [ports[2]], $"127.0.0.1:{Sockets.UnusedPort()}")), ct);

        // Warm every path once, so lazily opened descriptors are in the baseline.
        Assert.That(await Probe.EchoAsync(ports[0], ct: ct), Is.EqualTo("ping"));
        foreach (var kind in Enum.GetValues<Abort>())
        {
            await RunAsync(kind, PortFor(kind, ports), 0, ct);
        }

        await WaitForIdleAsync(daemon, pool);
        var baseline = OpenDescriptors();
        var clock = Stopwatch.StartNew();
        var ends = new int[Enum.GetValues<Abort>().Length];

        for (var batch = 0; batch < Connections / Concurrency; batch++)
        {
            var kind = (Abort)(batch % ends.Length);
            var port = PortFor(kind, ports);
            var tasks = new Task<SocketError?>[Concurrency];
            for (var i = 0; i < Concurrency; i++)
            {
                tasks[i] = RunAsync(kind, port, (batch * Concurrency) + i, ct);
            }

            foreach (var end in await Task.WhenAll(tasks))
            {
                if (end == SocketError.ConnectionReset)
                {
                    ends[(int)kind]++;
                }
            }
        }

        TestContext.Out.WriteLine($"{Connections} connections in {clock.ElapsedMilliseconds} ms; resets seen by clients: target resets {ends[(int)Abort.TargetResets]}, target refuses {ends[(int)Abort.TargetRefuses]}; pool allocated {pool.Allocated} blocks");
        Assert.That(ends[(int)Abort.TargetRefuses], Is.EqualTo(Connections / ends.Length), "a client whose target refuses is reset");
        Assert.That(ends[(int)Abort.TargetResets], Is.EqualTo(Connections / ends.Length), "a target's reset is passed on as a reset");

        await WaitForIdleAsync(daemon, pool);
        await Wait.UntilAsync(() => OpenDescriptors() <= baseline + FdMargin, TimeSpan.FromSeconds(15),
            $"open descriptors to return to the baseline {baseline} (+{FdMargin}); now {OpenDescriptors()}");
        Assert.That(await Probe.EchoAsync(ports[0], "after", ct), Is.EqualTo("after"), "the daemon still serves");
    }

    [Test]
    public async Task Daemon_ClientsAbortingWhileTheirHelloIsPeeked_LeaveNothingBehind(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var pool = new PinnedBlockMemoryPool();
        await using var daemon = DaemonFixture.Create(pool: pool);
        var port = FreePorts(1)[0];
        var rule = new FProxy.Configuration.RuleConfig
        {
            Match = new FProxy.Configuration.MatchConfig { Sni = new FProxy.Configuration.EquatableList<string>(["*.example.com"]) },
            Targets = new FProxy.Configuration.EquatableList<FProxy.Configuration.TargetConfig>([Target(echo.Target)]),
        };
        await daemon.ApplyAsync(Config(App("sni", [port], echo.Target) with
        {
            Rules = new FProxy.Configuration.EquatableList<FProxy.Configuration.RuleConfig>([rule]),
            SniTimeout = TimeSpan.FromMilliseconds(200),
        }), ct);

        var hello = FProxy.Tests.Routing.ClientHelloBuilder.Build("a.example.com");
        const int count = 2_000;
        for (var batch = 0; batch < count / Concurrency; batch++)
        {
            var tasks = new Task[Concurrency];
            for (var i = 0; i < Concurrency; i++)
            {
                var index = (batch * Concurrency) + i;
                byte[]? first = (index % 4) switch { 0 => [], 1 => hello[..20], 2 => hello, _ => null };
                tasks[i] = PeekAbortAsync(port, index, first, ct);
            }

            await Task.WhenAll(tasks);
        }

        await WaitForIdleAsync(daemon, pool);
        Assert.That(await Probe.EchoAsync(port, "after", ct), Is.EqualTo("after"), "the daemon still serves");
    }

    /// <summary>Sends <paramref name="first"/> (null: closes politely without sending) and resets, during or right after the peek.</summary>
    private static async Task PeekAbortAsync(int port, int index, byte[]? first, CancellationToken ct)
    {
        var source = new IPAddress(new byte[] { 127, 0, 0, (byte)(FirstSource + (index % Sources)) });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Bind(new IPEndPoint(source, 0));
        await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
        if (first is null)
        {
            client.Shutdown(SocketShutdown.Send);
            await Sockets.ReadEndAsync(client, ct);
            return;
        }

        if (first.Length > 0)
        {
            await client.SendAsync(first, SocketFlags.None, ct);
        }

        client.LingerState = new LingerOption(true, 0);
    }

    private static int PortFor(Abort kind, int[] ports) => kind switch
    {
        Abort.TargetResets => ports[1],
        Abort.TargetRefuses => ports[2],
        _ => ports[0],
    };

    private static async Task WaitForIdleAsync(FProxy.Daemon.ProxyDaemon daemon, PinnedBlockMemoryPool pool)
    {
        await Wait.UntilAsync(() => daemon.ActiveConnections == 0, TimeSpan.FromSeconds(15), "ActiveConnections to return to 0");
        await Wait.UntilAsync(() => pool.Outstanding == 0, TimeSpan.FromSeconds(15), "every pool block to be returned");
    }

    /// <summary>One connection aborted as <paramref name="kind"/> says; returns how the client saw it end, if it waited.</summary>
    private static async Task<SocketError?> RunAsync(Abort kind, int port, int index, CancellationToken ct)
    {
        var source = new IPAddress(new byte[] { 127, 0, 0, (byte)(FirstSource + (index % Sources)) });
        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.Bind(new IPEndPoint(source, 0));
        if (kind is Abort.ClientResetsAtOnce or Abort.ClientSendsThenResets)
        {
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
            if (kind == Abort.ClientSendsThenResets)
            {
                await client.SendAsync(new byte[512], SocketFlags.None, ct);
            }

            client.LingerState = new LingerOption(true, 0);
            return null;
        }

        try
        {
            // The proxy may reset before the client has even seen its connect complete: then
            // ConnectAsync itself reports the reset (SO_ERROR), as may the send.
            await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), ct);
            await client.SendAsync(new byte[64], SocketFlags.None, ct);
        }
        catch (SocketException e)
        {
            return e.SocketErrorCode;
        }

        return await Sockets.ReadEndAsync(client, ct);
    }

    private static int OpenDescriptors() => Directory.GetFiles("/proc/self/fd").Length;
}

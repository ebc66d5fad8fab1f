using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FProxy.Configuration;
using FProxy.Tests.Infrastructure;
using FProxy.Tests.Routing;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

/// <summary>Rule-based routing end to end: each criterion, their combination, first match wins, and SNI peeking.</summary>
public sealed class ProxyDaemonRuleTests
{
    private static readonly IPAddress Source2 = IPAddress.Parse("127.0.0.2");

    [Test]
    [CancelAfter(30_000)]
    public async Task SourceCidrs_ClientInRange_GoesToTheRuleTargets(CancellationToken ct)
    {
        await using var backends = await Backends.StartAsync();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(backends.App(port, Rule(new MatchConfig { SourceCidrs = List("127.0.0.2/32") }, backends.B))), ct);

        Assert.That(await Sockets.GreetingAsync(port, ct, source: Source2), Is.EqualTo("B"));
        Assert.That(await Sockets.GreetingAsync(port, ct, source: IPAddress.Loopback), Is.EqualTo("A"), "no match: the app's targets");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task SourceCidrs_DualStackListener_IPv4ClientMatchesIPv4Range(CancellationToken ct)
    {
        if (!Socket.OSSupportsIPv6)
        {
            Assert.Ignore("no IPv6 on this machine");
        }

        await using var backends = await Backends.StartAsync();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        var app = backends.App(port, Rule(new MatchConfig { SourceCidrs = List("127.0.0.0/8") }, backends.B)) with { Bind = null };
        await daemon.ApplyAsync(Config(app), ct);

        Assert.That(await Sockets.GreetingAsync(port, ct, to: IPAddress.Loopback), Is.EqualTo("B"), "127.0.0.1 arrives as ::ffff:127.0.0.1");
        Assert.That(await Sockets.GreetingAsync(port, ct, to: IPAddress.IPv6Loopback), Is.EqualTo("A"), "::1 is not in 127.0.0.0/8");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Ports_OneOfTheAppsPorts_OnlyThatPortGoesToTheRule(CancellationToken ct)
    {
        await using var backends = await Backends.StartAsync();
        var ports = FreePorts(2);
        await using var daemon = DaemonFixture.Create();
        var app = backends.App(ports[0], Rule(new MatchConfig { Ports = new EquatableList<int>([ports[1]]) }, backends.B)) with
        {
            Ports = new EquatableList<int>(ports),
        };
        await daemon.ApplyAsync(Config(app), ct);

        Assert.That(await Sockets.GreetingAsync(ports[0], ct), Is.EqualTo("A"));
        Assert.That(await Sockets.GreetingAsync(ports[1], ct), Is.EqualTo("B"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Match_SeveralCriteria_AllMustHold(CancellationToken ct)
    {
        await using var backends = await Backends.StartAsync();
        var ports = FreePorts(2);
        await using var daemon = DaemonFixture.Create();
        var match = new MatchConfig { SourceCidrs = List("10.0.0.0/8", "127.0.0.2/32"), Ports = new EquatableList<int>([ports[1]]) };
        var app = backends.App(ports[0], Rule(match, backends.B)) with { Ports = new EquatableList<int>(ports) };
        await daemon.ApplyAsync(Config(app), ct);

        Assert.That(await Sockets.GreetingAsync(ports[1], ct, source: Source2), Is.EqualTo("B"), "both hold (the second CIDR)");
        Assert.That(await Sockets.GreetingAsync(ports[0], ct, source: Source2), Is.EqualTo("A"), "wrong port");
        Assert.That(await Sockets.GreetingAsync(ports[1], ct, source: IPAddress.Loopback), Is.EqualTo("A"), "wrong source");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Rules_SeveralMatch_FirstWins(CancellationToken ct)
    {
        await using var backends = await Backends.StartAsync();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        var app = backends.App(port,
            Rule(new MatchConfig { SourceCidrs = List("127.0.0.2/32") }, backends.B),
            Rule(new MatchConfig { SourceCidrs = List("127.0.0.0/8") }, backends.C));
        await daemon.ApplyAsync(Config(app), ct);

        Assert.That(await Sockets.GreetingAsync(port, ct, source: Source2), Is.EqualTo("B"));
        Assert.That(await Sockets.GreetingAsync(port, ct, source: IPAddress.Loopback), Is.EqualTo("C"));
    }

    [TestCase("api.example.com", "B")]
    [TestCase("API.Example.COM", "B")]
    [TestCase("a.b.example.com", "B")]
    [TestCase("example.com", "A")]
    [TestCase("notexample.com", "A")]
    [CancelAfter(30_000)]
    public async Task Sni_WildcardPattern_MatchesNamesBelowTheDomain(string serverName, string expected, CancellationToken ct)
    {
        await using var backends = await Backends.StartAsync();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(backends.App(port, Rule(new MatchConfig { Sni = List("*.example.com") }, backends.B))), ct);

        var hello = ClientHelloBuilder.Build(serverName);
        var (greeting, echoed) = await ExchangeAsync(port, [hello], ct);
        Assert.That(greeting, Is.EqualTo(expected));
        Assert.That(echoed, Is.EqualTo(hello), "the peeked bytes reach the target unchanged");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Sni_HelloSplitAcrossSegmentsAndRecords_StillRead(CancellationToken ct)
    {
        await using var backends = await Backends.StartAsync();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(backends.App(port, Rule(new MatchConfig { Sni = List("api.example.com") }, backends.B))), ct);

        var hello = ClientHelloBuilder.Build("api.example.com", 40, 90);
        var (greeting, echoed) = await ExchangeAsync(port, [hello[..3], hello[3..50], hello[50..]], ct);
        Assert.That(greeting, Is.EqualTo("B"));
        Assert.That(echoed, Is.EqualTo(hello));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Sni_NonTlsFirstByte_DecidesAtOnceWithoutWaitingForTheTimeout(CancellationToken ct)
    {
        await using var backends = await Backends.StartAsync();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        var app = backends.App(port, Rule(new MatchConfig { Sni = List("*.example.com") }, backends.B)) with { SniTimeout = TimeSpan.FromMinutes(5) };
        await daemon.ApplyAsync(Config(app), ct);

        var (greeting, echoed) = await ExchangeAsync(port, ["GET / HTTP/1.0\r\n\r\n"u8.ToArray()], ct);
        Assert.That(greeting, Is.EqualTo("A"), "plain text never matches an SNI rule (the test's 30 s limit is far below SniTimeout)");
        Assert.That(echoed, Is.EqualTo("GET / HTTP/1.0\r\n\r\n"u8.ToArray()));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Sni_SilentClient_NoMatchAfterSniTimeoutAndTheNextRuleIsTried(CancellationToken ct)
    {
        await using var backends = await Backends.StartAsync();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        var app = backends.App(port,
            Rule(new MatchConfig { Sni = List("*.example.com") }, backends.B),
            Rule(new MatchConfig { Ports = new EquatableList<int>([port]) }, backends.C)) with { SniTimeout = TimeSpan.FromMilliseconds(300) };
        await daemon.ApplyAsync(Config(app), ct);

        var watch = Stopwatch.StartNew();
        Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("C"), "a server-speaks-first client still gets through");
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(250)), "it waited for the ClientHello first");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Sni_ClientClosesBeforeSendingAnything_NoTargetIsBurdened(CancellationToken ct)
    {
        await using var backends = await Backends.StartAsync();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        await daemon.ApplyAsync(Config(backends.App(port, Rule(new MatchConfig { Sni = List("*.example.com") }, backends.B))), ct);

        using (var socket = await Sockets.ConnectAsync(port, ct))
        {
            socket.Shutdown(SocketShutdown.Send);
            Assert.That(await Sockets.ReadEndAsync(socket, ct), Is.EqualTo(SocketError.Success).Or.EqualTo(SocketError.ConnectionReset));
        }

        await Wait.UntilAsync(() => daemon.ActiveConnections == 0, ct);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Sni_RealTlsClient_HelloRoutedAndForwardedUnchanged(CancellationToken ct)
    {
        using var plain = Listen();
        using var tls = Listen();
        var port = FreePorts(1)[0];
        await using var daemon = DaemonFixture.Create();
        var app = TestConfigs.App("a", [port], Name(plain)) with
        {
            Rules = new EquatableList<RuleConfig>([Rule(new MatchConfig { Sni = List("*.example.com") }, Name(tls))]),
        };
        await daemon.ApplyAsync(Config(app), ct);

        // .NET's own TLS client writes the ClientHello; the backend only records it.
        using var client = await Sockets.ConnectAsync(port, ct);
        using var cancelClient = CancellationTokenSource.CreateLinkedTokenSource(ct);
        await using var ssl = new System.Net.Security.SslStream(new NetworkStream(client, ownsSocket: false));
        var handshake = ssl.AuthenticateAsClientAsync(
            new System.Net.Security.SslClientAuthenticationOptions { TargetHost = "API.example.com" }, cancelClient.Token);

        using var backend = await tls.AcceptAsync(ct);
        var received = new List<byte>();
        var buffer = new byte[4096];
        string? name = null;
        var result = FProxy.Routing.SniParseResult.NeedMoreData;
        while (result == FProxy.Routing.SniParseResult.NeedMoreData)
        {
            var n = await backend.ReceiveAsync(buffer, SocketFlags.None, ct);
            Assert.That(n, Is.Positive, "the hello arrives whole");
            received.AddRange(buffer.AsSpan(0, n));
            result = FProxy.Routing.ClientHelloParser.TryReadServerName(new System.Buffers.ReadOnlySequence<byte>([.. received]), out name);
        }

        Assert.That(result, Is.EqualTo(FProxy.Routing.SniParseResult.Found));
        Assert.That(name, Is.EqualTo("api.example.com"));
        await cancelClient.CancelAsync();
        client.Dispose();
        Assert.That(async () => await handshake, Throws.InstanceOf<Exception>(), "no server answered the handshake");
    }

    private static Socket Listen()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.Listen(16);
        return socket;
    }

    private static string Name(Socket listener) => listener.LocalEndPoint!.ToString()!;

    private static RuleConfig Rule(MatchConfig match, string target) =>
        new() { Match = match, Targets = new EquatableList<TargetConfig>([Target(target)]) };

    private static EquatableList<string> List(params string[] items) => new(items);

    /// <summary>Sends <paramref name="parts"/> one by one (a pause between them, so they arrive as separate segments), then reads the greeting and the echo.</summary>
    private static async Task<(string Greeting, byte[] Echoed)> ExchangeAsync(int port, byte[][] parts, CancellationToken ct)
    {
        using var socket = await Sockets.ConnectAsync(port, ct);
        foreach (var part in parts)
        {
            await socket.SendAsync(part, SocketFlags.None, ct);
            await Task.Delay(20, ct);
        }

        var total = parts.Sum(static p => p.Length);
        var received = await Sockets.ReadAsync(socket, total + 2, ct);
        return (System.Text.Encoding.ASCII.GetString(received, 0, 1), received[2..]);
    }

    /// <summary>Three greeting backends: A (the app's target), B and C (rule targets).</summary>
    private sealed class Backends : IAsyncDisposable
    {
        private readonly EchoServer _a = new(greeting: "A\n");
        private readonly EchoServer _b = new(greeting: "B\n");
        private readonly EchoServer _c = new(greeting: "C\n");

        public string B => _b.Target;

        public string C => _c.Target;

        public static Task<Backends> StartAsync() => Task.FromResult(new Backends());

        public AppConfig App(int port, params RuleConfig[] rules) =>
            TestConfigs.App("a", [port], _a.Target) with { Rules = new EquatableList<RuleConfig>(rules) };

        public async ValueTask DisposeAsync()
        {
            await _a.DisposeAsync();
            await _b.DisposeAsync();
            await _c.DisposeAsync();
        }
    }
}

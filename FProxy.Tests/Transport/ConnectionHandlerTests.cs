using System.Net.Sockets;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Routing;
using FProxy.Tests.Infrastructure;
using FProxy.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Transport;

/// <summary>What a connection gives back when it ends, whatever goes wrong around it.</summary>
[CancelAfter(30_000)]
public sealed class ConnectionHandlerTests
{
    [Test]
    public async Task HandleAsync_AccessLogThrows_ConnectionServedAndEverythingReleased(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var proxy = Proxy.Start(echo, NullLogger.Instance, new ThrowingLogger());

        using (var client = await Sockets.ConnectAsync(proxy.Port, ct))
        {
            await client.SendAsync("x"u8.ToArray(), SocketFlags.None, ct);
            Assert.That(await Sockets.ReadAsync(client, 1, ct), Is.EqualTo("x"u8.ToArray()));
            client.Shutdown(SocketShutdown.Send);
            Assert.That(await Sockets.ReadEndAsync(client, ct), Is.EqualTo(SocketError.Success));
        }

        await proxy.AssertAllReleasedAsync(echo, ct);
    }

    [Test]
    public async Task HandleAsync_EveryLogThrows_ClientEndsAndEverythingReleased(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        await using var proxy = Proxy.Start(echo, new ThrowingLogger(), new ThrowingLogger());

        // The connection's first log line (connected) throws: a bug like any other, so the
        // client is reset; the target connection made for it must be closed too.
        var end = Sockets.ConnectAndReadEndAsync(proxy.Port, ct);
        Assert.That(await Task.WhenAny(end, Task.Delay(TimeSpan.FromSeconds(10), ct)), Is.SameAs(end), "the client is not left hanging");
        Assert.That(await end, Is.EqualTo(SocketError.ConnectionReset));
        await proxy.AssertAllReleasedAsync(echo, ct);
    }

    [Test]
    public async Task HandleAsync_PeekFailsWithAnUnexpectedException_PumpAndBlocksGoBack(CancellationToken ct)
    {
        // 16-byte blocks: the hello's first bytes fill one, and the peek's next GetMemory, which
        // rents the second, throws (not a cancellation, not a SocketException).
        var pool = new TestMemoryPool(blockSize: 16) { FailAfterRents = 1 };
        var budget = new ConnectionBudget(10);
        var handler = new ConnectionHandler(
            new TargetConnector(new StaticResolver(), TimeProvider.System, NullLogger.Instance), NullLogger.Instance, budget);

        // The sockets transport: its peek grows a pipe, and a failing second rent throws in there.
        await using var transport = new TransportFixture(ProxyTransport.Sockets, pool: pool);
        var rule = new RuleConfig
        {
            Match = new MatchConfig { Sni = new EquatableList<string>(["*.example.com"]) },
            Targets = new EquatableList<TargetConfig>([Target("127.0.0.1:1")]),
        };
        var route = new AppRoute(App("sni", [1], "127.0.0.1:1") with
        {
            Rules = new EquatableList<RuleConfig>([rule]),
            SniTimeout = TimeSpan.FromMinutes(1),
        });
        var group = new ConnectionGroup(route, TimeProvider.System, 1, transport.Transport);
        var (client, proxyClient) = await transport.AcceptAsync(ct);
        using (client)
        {
            await client.SendAsync(FProxy.Tests.Routing.ClientHelloBuilder.Build("a.example.com"), SocketFlags.None, ct);

            // As the accept loop does before it hands a client over.
            group.Enter();
            Assert.That(budget.TryAcquire(), Is.True);
            await handler.HandleAsync(proxyClient, 1, group).WaitAsync(TimeSpan.FromSeconds(10), ct);
            Assert.That(await Sockets.ReadEndAsync(client, ct), Is.EqualTo(SocketError.ConnectionReset), "the client is reset");
        }

        Assert.That(pool.Outstanding, Is.Zero, "the peeking pump went back to its pool with its blocks");
        Assert.That(budget.Active, Is.Zero);
        Assert.That(group.Active, Is.Zero);
    }

    /// <summary>A logging provider that fails on every line.</summary>
    private sealed class ThrowingLogger : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            throw new InvalidOperationException("the logging provider failed");
    }

    /// <summary>A listener with its own descriptor budget and pool, access log on, in front of one echo target.</summary>
    private sealed class Proxy : IAsyncDisposable
    {
        private readonly PortListener _listener;
        private readonly ConnectionBudget _budget;
        private readonly PinnedBlockMemoryPool _pool;
        private readonly AppRoute _route;

        private readonly ITransport _transport;

        private Proxy(PortListener listener, ConnectionBudget budget, PinnedBlockMemoryPool pool, AppRoute route, ITransport transport)
        {
            _transport = transport;
            _listener = listener;
            _budget = budget;
            _pool = pool;
            _route = route;
        }

        public int Port => _listener.Port;

        public static Proxy Start(EchoServer echo, ILogger logger, ILogger accessLogger)
        {
            var budget = new ConnectionBudget(10);
            var pool = new PinnedBlockMemoryPool();
            var handler = new ConnectionHandler(
                new TargetConnector(new StaticResolver(), TimeProvider.System, NullLogger.Instance),
                logger, budget, accessLogger: accessLogger, accessLogAll: true);
            var transport = TestTransport.Create(pool: pool, budget: budget);
            var port = Sockets.UnusedPort();
            var route = new AppRoute(App("a", [port], echo.Target) with { MaxConnections = 10 });
            var listener = PortListener.Bind(port, route, handler, transport, TimeProvider.System, NullLogger.Instance);
            listener.Start();
            return new Proxy(listener, budget, pool, route, transport);
        }

        public async Task AssertAllReleasedAsync(EchoServer echo, CancellationToken ct)
        {
            var target = _route.Health[_route.Config.Targets[0].Key];
            // Each accept loop holds one share of the budget while it waits for the next client.
            await Wait.UntilAsync(() => _budget.Active == _listener.AcceptLoops && _listener.ActiveConnections == 0 && _route.Limits.Open.Open == 0 && target.ActiveConnections == 0, TimeSpan.FromSeconds(10),
                $"every count to be given back: budget {_budget.Active} ({_listener.AcceptLoops} for the accept loops), listener {_listener.ActiveConnections}, MaxConnections {_route.Limits.Open.Open}, target {target.ActiveConnections}");
            await Wait.UntilAsync(() => _pool.Outstanding == 0, TimeSpan.FromSeconds(10), "every pool block to be returned");
            await Wait.UntilAsync(() => echo.Open == 0, TimeSpan.FromSeconds(10), "the target connection to be closed");
            Assert.That(await _listener.CloseAndDrainAsync().WaitAsync(TimeSpan.FromSeconds(10), ct), Is.Zero, "nothing left to drain");
            Assert.That(_budget.Active, Is.Zero);
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Close();
            await _transport.DisposeAsync();
        }
    }
}

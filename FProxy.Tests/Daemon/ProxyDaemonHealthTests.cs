using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Daemon;

/// <summary>Availability end to end: active checks, passive ejection, panic mode, and health across reloads.</summary>
public sealed class ProxyDaemonHealthTests
{
    private static readonly PassiveHealthConfig QuickEjection = new(true, 2, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(40));

    [Test]
    [CancelAfter(30_000)]
    public async Task ActiveCheck_TargetFailsExpect_NoConnectionGoesToItWhileAnotherIsHealthy(CancellationToken ct)
    {
        await using var good = new EchoServer(greeting: "A\n");
        await using var bad = new EchoServer(greeting: "B\n");
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        var app = App("a", [port], good.Target, bad.Target) with
        {
            HealthCheck = new HealthCheckConfig
            {
                Interval = TimeSpan.FromMilliseconds(50), Timeout = TimeSpan.FromSeconds(2), UnhealthyThreshold = 2,
                Expect = "A", Probe = HealthCheckConfig.SendExpectProbe,
            },
        };
        await daemon.ApplyAsync(Config(app), ct);

        var badState = daemon.GetRoute("a")!.Health[bad.Target];
        await Wait.UntilAsync(() => !badState.IsAvailable, ct);
        Assert.That(logs.Messages(1510).Single(), Does.Contain(bad.Target).And.Contain("2 check(s) in a row failed"));

        for (var i = 0; i < 20; i++)
        {
            Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("A"), $"connection {i}");
        }
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task ActiveCheck_FlappingBackend_GoesUnhealthyAndComesBack(CancellationToken ct)
    {
        await using var steady = new EchoServer(greeting: "A\n");
        var flappingPort = FreePorts(1)[0];
        var flapping = EchoServer.OnPort(flappingPort, "B\n");
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(loggerFactory: logs);
        var app = App("a", [port], steady.Target, $"127.0.0.1:{flappingPort}") with
        {
            HealthCheck = new HealthCheckConfig { Interval = TimeSpan.FromMilliseconds(50), Timeout = TimeSpan.FromSeconds(2), UnhealthyThreshold = 2, HealthyThreshold = 2 },
        };
        await daemon.ApplyAsync(Config(app), ct);
        var state = daemon.GetRoute("a")!.Health[$"127.0.0.1:{flappingPort}"];
        var seen = new HashSet<string>();
        for (var i = 0; i < 4; i++)
        {
            seen.Add(await Sockets.GreetingAsync(port, ct));
        }

        Assert.That(seen, Is.EquivalentTo(new[] { "A", "B" }), "both serve while healthy");

        await flapping.DisposeAsync();
        await Wait.UntilAsync(() => !state.IsAvailable, ct);
        for (var i = 0; i < 6; i++)
        {
            Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("A"), "only the healthy target serves");
        }

        await using var back = EchoServer.OnPort(flappingPort, "B\n");
        await Wait.UntilAsync(() => state.IsAvailable, ct);
        seen.Clear();
        for (var i = 0; i < 4; i++)
        {
            seen.Add(await Sockets.GreetingAsync(port, ct));
        }

        Assert.That(seen, Is.EquivalentTo(new[] { "A", "B" }), "back in rotation");
        Assert.That(logs.Count(1510), Is.EqualTo(1), "unhealthy once");
        Assert.That(logs.Count(1511), Is.EqualTo(1), "healthy once");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task PassiveEjection_ConsecutiveFailures_EjectsUntilBaseEjectionThenReturns(CancellationToken ct)
    {
        await using var setup = await DeadTargetSetup.StartAsync(ct);
        var (good, dead, time, port, daemon, app) = setup;
        var deadState = daemon.GetRoute("a")!.Health[dead];

        // Round robin starts at the dead target: each of its turns fails over to the good one.
        for (var i = 0; i < 4; i++)
        {
            Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("A"));
        }

        Assert.That(deadState.IsAvailable, Is.False, "two failures in a row eject it");
        var pool = daemon.GetRoute("a")!.DefaultPool;
        await Wait.UntilAsync(() => pool.Current.Available.Count == 1, ct);
        Assert.That(pool.Current.Available.Select(static t => t.ToString()), Is.EqualTo(new[] { good.Target }));

        time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        Assert.That(deadState.IsAvailable, Is.False);
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(deadState.IsAvailable, Is.True, "back after BaseEjection");
        await Wait.UntilAsync(() => pool.Current.Available.Count == 2, ct); // The snapshot follows off the data path.

        // Still dead: two more failures eject it again, for twice as long.
        for (var i = 0; i < 4 && deadState.IsAvailable; i++)
        {
            Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("A"));
        }

        Assert.That(deadState.IsAvailable, Is.False);
        time.Advance(TimeSpan.FromSeconds(19));
        Assert.That(deadState.IsAvailable, Is.False, "the second ejection lasts 20 s");
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(deadState.IsAvailable, Is.True);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Panic_EveryTargetEjected_AllAreStillTriedAndItIsLoggedOnce(CancellationToken ct)
    {
        var dead = new[] { $"127.0.0.1:{Sockets.UnusedPort()}", $"127.0.0.1:{Sockets.UnusedPort()}" };
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var port = FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        await using var daemon = DaemonFixture.Create(time: time, loggerFactory: logs);
        await daemon.ApplyAsync(Config(App("a", [port], dead) with { PassiveHealth = QuickEjection }), ct);
        var pool = daemon.GetRoute("a")!.DefaultPool;

        for (var i = 0; i < 10; i++)
        {
            Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("reset"));
        }

        await Wait.UntilAsync(() => pool.Current.Panic, ct);
        Assert.That(pool.Current.Available, Has.Count.EqualTo(2), "panic offers every target");
        Assert.That(logs.Count(1500), Is.EqualTo(1), "panic is logged once");

        // In panic a target that comes back is found at once, since all are tried.
        await using var revived = EchoServer.OnPort(int.Parse(dead[0].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture), "A\n");
        Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("A"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Reload_TargetStays_KeepsItsEjectionAndCounts(CancellationToken ct)
    {
        await using var other = new EchoServer(greeting: "C\n");
        await using var setup = await DeadTargetSetup.StartAsync(ct);
        var (good, dead, time, port, daemon, app) = setup;
        await EjectByTrafficAsync(port, ct);

        var before = daemon.GetRoute("a")!;
        Assert.That(before.Health[dead].IsAvailable, Is.False);

        using var open = await Sockets.ConnectAsync(port, ct);
        Assert.That(await Sockets.ReadAsync(open, 2, ct), Is.EqualTo("A\n"u8.ToArray()));

        // The connections that ejected the dead target may still be closing on the proxy's side.
        await Wait.UntilAsync(() => before.Health[good.Target].ActiveConnections == 1, ct);
        await daemon.ApplyAsync(Config(app with { Targets = new EquatableList<TargetConfig>([Target(dead), Target(good.Target), Target(other.Target)]) }), ct);
        var after = daemon.GetRoute("a")!;
        Assert.That(after, Is.Not.SameAs(before), "a new route");
        Assert.That(after.Health[dead], Is.SameAs(before.Health[dead]), "the same state object");
        Assert.That(after.Health[dead].IsAvailable, Is.False, "still ejected after the reload");
        Assert.That(after.Health[good.Target].ActiveConnections, Is.EqualTo(1), "the open connection still counts");
        Assert.That(after.DefaultPool.Current.Available.Select(static t => t.ToString()), Is.EqualTo(new[] { good.Target, other.Target }));

        time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(after.Health[dead].IsAvailable, Is.True, "returns on the original schedule");
        await Wait.UntilAsync(() => after.DefaultPool.Current.Available.Count == 3, ct);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Reload_TargetRemovedAndReadded_StartsHealthy(CancellationToken ct)
    {
        await using var setup = await DeadTargetSetup.StartAsync(ct);
        var (good, dead, time, port, daemon, app) = setup;
        await EjectByTrafficAsync(port, ct);

        Assert.That(daemon.GetRoute("a")!.Health[dead].IsAvailable, Is.False);
        await daemon.ApplyAsync(Config(App("a", [port], good.Target)), ct);
        await daemon.ApplyAsync(Config(app), ct);
        Assert.That(daemon.GetRoute("a")!.Health[dead].IsAvailable, Is.True, "a target that left the config is forgotten");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Health_SameTargetInTwoApps_KeptPerApp(CancellationToken ct)
    {
        await using var good = new EchoServer(greeting: "A\n");
        var dead = $"127.0.0.1:{Sockets.UnusedPort()}";
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var ports = FreePorts(2);
        await using var daemon = DaemonFixture.Create(time: time);
        await daemon.ApplyAsync(Config(
            App("a", [ports[0]], dead, good.Target) with { PassiveHealth = QuickEjection },
            App("b", [ports[1]], dead, good.Target) with { PassiveHealth = QuickEjection }), ct);
        await EjectByTrafficAsync(ports[0], ct);

        Assert.That(daemon.GetRoute("a")!.Health[dead].IsAvailable, Is.False);
        Assert.That(daemon.GetRoute("b")!.Health[dead].IsAvailable, Is.True, "app b has not seen it fail");
    }

    /// <summary>Four connections: round robin sends two of them to the dead target first, which with <see cref="QuickEjection"/> ejects it.</summary>
    private static async Task EjectByTrafficAsync(int port, CancellationToken ct)
    {
        for (var i = 0; i < 4; i++)
        {
            Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("A"), "each fails over to the live target");
        }
    }

    /// <summary>
    /// App "a" on a fresh port with a dead target (nothing listens) before a live one greeting
    /// "A", passive ejection after 2 failures, on a fake clock; applied.
    /// </summary>
    private sealed record DeadTargetSetup(EchoServer Good, string Dead, FakeTimeProvider Time, int Port, ProxyDaemon Daemon, AppConfig App)
        : IAsyncDisposable
    {
        public static async Task<DeadTargetSetup> StartAsync(CancellationToken ct)
        {
            var good = new EchoServer(greeting: "A\n");
            var dead = $"127.0.0.1:{Sockets.UnusedPort()}";
            var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
            var port = FreePorts(1)[0];
            var daemon = DaemonFixture.Create(time: time);
            var app = TestConfigs.App("a", [port], dead, good.Target) with { PassiveHealth = QuickEjection };
            await daemon.ApplyAsync(Config(app), ct);
            return new DeadTargetSetup(good, dead, time, port, daemon, app);
        }

        public async ValueTask DisposeAsync()
        {
            await Daemon.DisposeAsync();
            await Good.DisposeAsync();
        }
    }
}

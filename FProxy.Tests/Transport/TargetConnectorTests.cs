using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FProxy.Routing;
using FProxy.Tests.Daemon;
using FProxy.Tests.Infrastructure;
using FProxy.Transport;
using Microsoft.Extensions.Logging.Abstractions;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Transport;

[CancelAfter(60_000)]
public sealed class TargetConnectorTests
{
    private TransportFixture _transport = null!;
    private readonly List<(Socket Client, TransportConnection Connection)> _accepted = [];

    [SetUp]
    public void SetUp() => _transport = new TransportFixture();

    [TearDown]
    public async Task TearDown()
    {
        foreach (var (client, connection) in _accepted)
        {
            connection.Reset();
            connection.Release();
            client.Dispose();
        }

        await _transport.DisposeAsync();
    }

    /// <summary>Connects the target side of a freshly accepted client, as the handler does.</summary>
    private async Task<ConnectResult> ConnectAsync(TargetConnector connector, AppRoute route, CancellationToken ct)
    {
        var accepted = await _transport.AcceptAsync(ct);
        _accepted.Add(accepted);
        return await connector.ConnectAsync(route, route.DefaultPool, accepted.Connection, 1, null);
    }

    [Test]
    public async Task ConnectAsync_FirstTargetRefuses_FailsOverToNext(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var refused = $"127.0.0.1:{Sockets.UnusedPort()}";
        var route = new AppRoute(App("a", [1], refused, echo.Target));
        var connector = new TargetConnector(new StaticResolver(), _transport.Time, NullLogger.Instance);

        var result = await ConnectAsync(connector, route, ct);

        Assert.That(result.Target, Is.Not.Null, result.Failure);
        Assert.That(result.Target!.Config.Port, Is.EqualTo(echo.Port));
        Assert.That(result.Attempts, Is.EqualTo(2));
    }

    [Test]
    public async Task ConnectAsync_NameNotFound_FailsOverToNext(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var route = new AppRoute(App("a", [1], "missing.test:80", echo.Target));
        var connector = new TargetConnector(new StaticResolver(), _transport.Time, NullLogger.Instance);

        var result = await ConnectAsync(connector, route, ct);

        Assert.That(result.Target!.Config.Port, Is.EqualTo(echo.Port));
    }

    [Test]
    public async Task ConnectAsync_NameWithSeveralAddresses_FallsBackFromRefusedAddress(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var resolver = new StaticResolver();
        // ::1 refuses (nothing listens there on this port), 127.0.0.1 answers: Happy Eyeballs moves on at once.
        resolver.Set("both.test", IPAddress.IPv6Loopback, IPAddress.Loopback);
        var route = new AppRoute(App("a", [1], $"both.test:{echo.Port}"));
        var connector = new TargetConnector(resolver, _transport.Time, NullLogger.Instance);

        var watch = Stopwatch.StartNew();
        var result = await ConnectAsync(connector, route, ct);

        Assert.That(result.Target, Is.Not.Null, result.Failure);

        // Only 127.0.0.1 has a backend: that it accepted once shows which address won.
        await Wait.UntilAsync(() => echo.Accepted >= 1, TimeSpan.FromSeconds(10), "the backend to accept");
        Assert.That(echo.Accepted, Is.EqualTo(1));
    }

    [Test]
    public async Task ConnectAsync_FirstAddressSilent_SecondStartsAfterStaggerAndWins(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        using var silent = Sockets.SilentListener(IPAddress.Parse("127.0.0.2"), out var fillers, echo.Port);
        var resolver = new StaticResolver();
        resolver.Set("mixed.test", IPAddress.Parse("127.0.0.2"), IPAddress.Loopback);
        var route = new AppRoute(App("a", [1], $"mixed.test:{echo.Port}"));
        var connector = new TargetConnector(resolver, _transport.Time, NullLogger.Instance);

        var watch = Stopwatch.StartNew();
        var result = await ConnectAsync(connector, route, ct);

        fillers.ForEach(f => f.Dispose());
        Assert.That(result.Target, Is.Not.Null, result.Failure);
        Assert.That(watch.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(200)), "the second address waits for the stagger");
        // The backend's accept can trail the client's connect: wait for it, then check there was one.
        await Wait.UntilAsync(() => echo.Accepted >= 1, TimeSpan.FromSeconds(10), "the backend to accept");
        Assert.That(echo.Accepted, Is.EqualTo(1), "one connection to the healthy address");
    }

    [Test]
    public async Task ConnectAsync_FirstTargetSilent_NextTargetStillReachedWithinConnectTimeout(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        using var silent = Sockets.SilentListener(IPAddress.Parse("127.0.0.2"), out var fillers);
        var silentTarget = $"127.0.0.2:{((IPEndPoint)silent.LocalEndPoint!).Port}";
        var route = new AppRoute(App("a", [1], silentTarget, echo.Target) with { ConnectTimeout = TimeSpan.FromSeconds(2) });
        var connector = new TargetConnector(new StaticResolver(), _transport.Time, NullLogger.Instance);

        var watch = Stopwatch.StartNew();
        var result = await ConnectAsync(connector, route, ct);

        fillers.ForEach(f => f.Dispose());
        Assert.That(result.Target, Is.Not.Null, result.Failure);
        Assert.That(result.Target!.Config.Port, Is.EqualTo(echo.Port));
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)));
    }

    [Test]
    public async Task Proxy_AllTargetsDown_ClientResetWithinConnectTimeout(CancellationToken ct)
    {
        await using var daemon = DaemonFixture.Create();
        var ports = FreePorts(1);
        var app = App("a", ports, $"127.0.0.1:{Sockets.UnusedPort()}", $"127.0.0.1:{Sockets.UnusedPort()}", "nowhere.test:1")
            with { ConnectTimeout = TimeSpan.FromSeconds(2) };
        await daemon.ApplyAsync(Config(app), ct);

        var watch = Stopwatch.StartNew();
        var end = await Sockets.ConnectAndReadEndAsync(ports[0], ct);

        Assert.That(end, Is.EqualTo(SocketError.ConnectionReset), "the client is reset, not closed");
        Assert.That(watch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(2)), "within ConnectTimeout");
        Assert.That(await Probe.EchoAsync(ports[0], ct: ct).ContinueWith(t => t.IsFaulted, TaskScheduler.Default), Is.True,
            "still failing, and still serving");
        Assert.That(daemon.BoundPorts, Has.Member(ports[0]), "the proxy goes on");
    }

    [Test]
    public async Task ConnectAsync_TargetUnavailable_TriedOnlyAfterEveryAvailableOneFailed(CancellationToken ct)
    {
        await using var ejected = new EchoServer();
        var second = new EchoServer();
        var route = new AppRoute(App("a", [1], ejected.Target, second.Target));
        var ejectedState = route.Health[ejected.Target];
        for (var i = 0; i < 3; i++)
        {
            ejectedState.Outcomes!.ConnectFailed("refused");
        }

        route.DefaultPool.Republish();
        var connector = new TargetConnector(new StaticResolver(), _transport.Time, NullLogger.Instance);
        for (var i = 0; i < 4; i++)
        {
            var result = await ConnectAsync(connector, route, ct);
            result.Target!.Exit();
            Assert.That(result.Target.Config.Port, Is.EqualTo(second.Port), "the available target, every time");
        }

        Assert.That(ejected.Accepted, Is.Zero);

        await second.DisposeAsync();
        var lastResort = await ConnectAsync(connector, route, ct);
        Assert.That(lastResort.Target!.Config.Port, Is.EqualTo(ejected.Port), "an unavailable target beats no target");
        Assert.That(lastResort.Attempts, Is.EqualTo(2));
    }

    [Test]
    public async Task ConnectAsync_RefusedRepeatedly_RecordsFailuresUntilEjected(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var refused = $"127.0.0.1:{Sockets.UnusedPort()}";
        var route = new AppRoute(App("a", [1], refused, echo.Target));
        var connector = new TargetConnector(new StaticResolver(), _transport.Time, NullLogger.Instance);
        for (var i = 0; i < 6; i++)
        {
            var result = await ConnectAsync(connector, route, ct);
            result.Target!.Exit();
        }

        Assert.That(route.Health[refused].IsAvailable, Is.False, "3 consecutive failures (the default) eject it");
        await Wait.UntilAsync(() => route.DefaultPool.Current.Unavailable.Length == 1, ct);
        Assert.That(route.DefaultPool.Current.Unavailable.Single().ToString(), Is.EqualTo(refused));
    }

    [Test]
    public async Task ConnectAsync_Connected_CountsTheTargetActiveUntilExit(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var route = new AppRoute(App("a", [1], echo.Target));
        var connector = new TargetConnector(new StaticResolver(), _transport.Time, NullLogger.Instance);

        var result = await ConnectAsync(connector, route, ct);
        Assert.That(result.Target!.ActiveConnections, Is.EqualTo(1));
        result.Target.Exit();
        Assert.That(result.Target.ActiveConnections, Is.Zero);
    }
}

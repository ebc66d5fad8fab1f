using System.Net.Sockets;
using System.Text;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Health;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Daemon;

/// <summary>
/// The examples of docs/extending.md, end to end: one class plus one builder line, then the name
/// works in config text parsed with the daemon's schema.
/// </summary>
public sealed class ExtensibilityTests
{
    [Test]
    [CancelAfter(30_000)]
    public async Task AddStrategy_CustomStrategy_UsableByNameInConfig(CancellationToken ct)
    {
        await using var primary = new EchoServer(greeting: "A\n");
        await using var backup = new EchoServer(greeting: "B\n");
        var port = TestConfigs.FreePorts(1)[0];
        await using var daemon = new ProxyDaemonBuilder()
            .AddStrategy<FirstAvailableStrategy>("FirstAvailable")
            .Build();

        var json = $$"""
            { "Apps": [ { "Name": "db", "Ports": [{{port}}], "Bind": "127.0.0.1", "Strategy": "firstavailable",
                          "Targets": ["{{primary.Target}}", "{{backup.Target}}"] } ] }
            """;
        Assert.That(() => ConfigParser.Parse(json), Throws.InstanceOf<ConfigException>()
            .With.Message.Contains("unknown strategy \"firstavailable\""), "the default schema does not know it");
        await daemon.ApplyAsync(ConfigParser.Parse(json, "test", daemon.Schema), ct);

        Assert.That(daemon.Current.Apps[0].Strategy, Is.EqualTo("FirstAvailable"));
        for (var i = 0; i < 5; i++)
        {
            Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("A"), "always the primary");
        }

        await primary.DisposeAsync();
        Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("B"), "the backup when the primary is down");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task AddProbe_CustomProbe_UsableByNameInConfig(CancellationToken ct)
    {
        await using var healthy = new EchoServer(greeting: "HTTP/1.0 200 OK\r\n\r\n");
        await using var failing = new EchoServer(greeting: "HTTP/1.0 503 Service Unavailable\r\n\r\n");
        var port = TestConfigs.FreePorts(1)[0];
        var logs = new TestLoggerFactory();
        await using var daemon = new ProxyDaemonBuilder()
            .AddProbe<HttpProbe>("http")
            .UseLogging(logs)
            .Build();

        var json = $$"""
            { "Apps": [ { "Name": "web", "Ports": [{{port}}], "Bind": "127.0.0.1",
                          "Targets": ["{{healthy.Target}}", "{{failing.Target}}"],
                          "HealthCheck": { "Probe": "http", "Interval": "100ms", "Timeout": "100ms", "UnhealthyThreshold": 1 } } ] }
            """;
        await daemon.ApplyAsync(ConfigParser.Parse(json, "test", daemon.Schema), ct);

        await Wait.UntilAsync(() => logs.Count(1510) == 1, ct);
        Assert.That(logs.Messages(1510).Single(), Does.Contain(failing.Target).And.Contain("status line \"HTTP/1.0 503 Service Unavailable\""));
        Assert.That(logs.Count(1510), Is.EqualTo(1), "the 200 target stays healthy");
    }

    [Test]
    public async Task ApplyAsync_ConfigBuiltInCodeNamesUnknownStrategy_RejectedAndNothingChanges()
    {
        await using var daemon = new ProxyDaemonBuilder().Build();
        var app = TestConfigs.App("a", TestConfigs.FreePorts(1), "127.0.0.1:1") with { Strategy = "Nope" };

        Assert.That(async () => await daemon.ApplyAsync(TestConfigs.Config(app)), Throws.InstanceOf<ConfigException>()
            .With.Message.Contains("\"Strategy\": unknown strategy \"Nope\"; valid strategies: RoundRobin, Random"));
        Assert.That(daemon.Current.Apps, Is.Empty);
        Assert.That(daemon.BoundPorts, Is.Empty);
    }

    [Test]
    public void Add_InvalidName_Throws()
    {
        Assert.That(() => new StrategyRegistry().Add<FirstAvailableStrategy>("has space"), Throws.ArgumentException.With.Message.Contains("\"has space\" is not a valid name"));
        Assert.That(() => new ProbeRegistry().Add<HttpProbe>(""), Throws.ArgumentException);
    }

    /// <summary>docs/extending.md's strategy: primary/backup.</summary>
    private sealed class FirstAvailableStrategy : IStrategy
    {
        public int Next(in StrategyContext context) => 0;
    }

    /// <summary>docs/extending.md's probe: healthy when GET /healthz answers with status 200.</summary>
    private sealed class HttpProbe : IHealthProbe
    {
        public async ValueTask<HealthProbeResult> CheckAsync(HealthProbeContext context, CancellationToken cancellationToken)
        {
            using var socket = await context.ConnectAsync(cancellationToken);
            var request = Encoding.ASCII.GetBytes($"GET /healthz HTTP/1.0\r\nHost: {context.Target.Host}\r\n\r\n");
            await socket.SendAsync(request, SocketFlags.None, cancellationToken);

            var buffer = new byte[64];
            var length = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);
            var statusLine = Encoding.ASCII.GetString(buffer, 0, length).Split('\r', '\n')[0];
            return statusLine.Split(' ') is [_, "200", ..]
                ? HealthProbeResult.Pass
                : HealthProbeResult.Fail($"status line \"{statusLine}\"");
        }
    }
}

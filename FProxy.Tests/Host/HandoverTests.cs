using System.Diagnostics;
using System.Globalization;
using System.Net;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>
/// A process handover on one node, as an upgrade does it: a second host on the same config binds
/// the same ports (SO_REUSEPORT), then the first gets SIGTERM and drains, under a steady stream of
/// new connections. Each test runs in a network namespace of its own, so it can set
/// net.ipv4.tcp_migrate_req without touching the machine, and use a fixed port.
/// </summary>
[Category("Handover")]
[NonParallelizable]
[CancelAfter(30_000)]
public sealed class HandoverTests
{
    private const string MigrateSetting = "net.ipv4.tcp_migrate_req";

    /// <summary>The namespace is the test's own: nothing else can hold a port in it.</summary>
    private const int ProxyPort = 5000;

    /// <summary>Connections begun all at once at the moment the first host gets SIGTERM.</summary>
    private const int Burst = 50;

    /// <summary>Connections the steady stream begins after the SIGTERM before it stops (about 1.2 s at one per 3 ms).</summary>
    private const int AfterStop = 400;

    /// <summary>Where each run's figures are appended, to quote them from outside the test log.</summary>
    private const string CountsFile = "/tmp/fproxy-handover-counts.txt";

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(3);
    private static readonly TimeSpan ConnectionTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// No listener waits: the old one closes the moment SIGTERM arrives, so connections the kernel
    /// queued on it are still there when it closes.
    /// </summary>
    private static readonly Dictionary<string, string?> HostEnvironment = new() { ["FPROXY_SHUTDOWN_DELAY"] = "0" };

    [TestCase("0", 1)]
    [TestCase("1", 0)]
    public async Task Start_MigrateReqSysctl_WarnsOnlyWhenOff(string value, int warnings)
    {
        using var ns = NetworkNamespace.Create((MigrateSetting, value));
        await using var echo = EchoServer.On(ns.CreateSocket());
        using var host = HostProcess.Start(Config(echo), HostEnvironment, wrapper: ns.Wrapper);
        await host.WaitForLineAsync("config applied", StartTimeout);

        Assert.That(host.CountEvent(1415), Is.EqualTo(warnings), host.Output);
        if (warnings > 0)
        {
            var line = host.Lines.First(static l => l.Contains("[1415]", StringComparison.Ordinal));
            Assert.That(line, Does.Contain(" warn: ").And.Contain("are reset").And.Contain($"set {MigrateSetting}=1"));
        }

        Assert.That(await host.StopAsync(ExitTimeout), Is.Zero, host.Output);
    }

    [Test]
    public async Task Handover_MigrateReqOn_NoConnectionFails(CancellationToken ct)
    {
        var load = await HandOverUnderLoadAsync("1", ct);

        Assert.That(load.Failures, Is.Zero, $"with {MigrateSetting}=1 the queued connections move to the new process: {load.FailureReasons}");
    }

    /// <summary>
    /// The same handover with the setting off: whatever the kernel had queued on the old listeners
    /// when they closed is reset. How many that is depends on timing (it may be none), so the count
    /// is reported, not asserted.
    /// </summary>
    [Test]
    public async Task Handover_MigrateReqOff_FailuresCounted(CancellationToken ct)
    {
        var load = await HandOverUnderLoadAsync("0", ct);

        Assert.That(load.Started, Is.GreaterThanOrEqualTo(Burst + AfterStop));
    }

    private static async Task<ConnectionLoad> HandOverUnderLoadAsync(string migrate, CancellationToken ct)
    {
        var ns = NetworkNamespace.Create((MigrateSetting, migrate));
        try
        {
            await using var echo = EchoServer.On(ns.CreateSocket());
            var config = Config(echo);
            using var old = HostProcess.Start(config, HostEnvironment, wrapper: ns.Wrapper);
            await old.WaitForLineAsync("config applied", StartTimeout);

            var load = new ConnectionLoad(() => ns.CreateSocket(), new IPEndPoint(IPAddress.Loopback, ProxyPort), Interval, ConnectionTimeout);
            await using (load)
            {
                load.Start();

                using var successor = HostProcess.Start(config, HostEnvironment, wrapper: ns.Wrapper);
                await successor.WaitForLineAsync($"listening on 127.0.0.1:{ProxyPort}", StartTimeout);
                await successor.WaitForLineAsync("config applied", StartTimeout);

                // Both processes take connections for a while before the old one stops.
                var before = load.Finished;
                await Wait.UntilAsync(() => load.Finished >= before + 100, ct);

                var stopped = Stopwatch.StartNew();
                old.Signal(HostProcess.SigTerm);
                var burst = load.BurstAsync(Burst);
                var atStop = load.Started;

                Assert.That(await old.WaitForExitAsync(ExitTimeout), Is.Zero, old.Output);
                var exited = stopped.Elapsed;
                await Wait.UntilAsync(() => load.Started >= atStop + AfterStop, ct);
                await burst;
                await load.StopAsync();

                var figures = string.Create(
                    CultureInfo.InvariantCulture,
                    $"{MigrateSetting}={migrate}: {load.Failures} of {load.Started} connections failed ({load.FailureReasons}); the old host exited {exited.TotalMilliseconds:F0} ms after SIGTERM");
                TestContext.Progress.WriteLine(figures);
                await File.AppendAllTextAsync(CountsFile, $"{DateTime.UtcNow:O} {figures}{Environment.NewLine}", ct);

                Assert.That(successor.HasExited, Is.False, successor.Output);
                Assert.That(old.CountLines("listening on"), Is.EqualTo(1), "the old host bound the port once");
                Assert.That(await successor.StopAsync(ExitTimeout), Is.Zero, successor.Output);
            }

            // A thread started from inside would have made sockets there that were meant for outside.
            Assert.That(ns.OtherThreadsInside(), Is.Empty, "no thread of the test process but the socket thread entered the namespace");
            return load;
        }
        finally
        {
            ns.Dispose();
        }
    }

    private static string Config(EchoServer echo) =>
        HostProcess.ConfigJson(HostProcess.AppJson("a", [ProxyPort], [echo.Target]));
}

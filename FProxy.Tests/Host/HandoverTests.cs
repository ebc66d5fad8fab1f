using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>
/// A process handover on one node, as an upgrade does it: a second host on the same config binds
/// the same ports (SO_REUSEPORT), then the first gets SIGTERM and drains, under a new connection
/// every 3 ms and a burst of 50 at the SIGTERM. Once with the old host accepting up to the end,
/// once with it full (not accepting, its queue filling, as under overload), each with
/// net.ipv4.tcp_migrate_req on and off. Each test runs in a network namespace of its own, so it
/// can set the sysctl without touching the machine, and use a fixed port. Every run's failure
/// count is printed and appended to <see cref="CountsFile"/>.
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

    /// <summary>
    /// The old host's open-files limit when it is to be full: its connection budget is then a few
    /// dozen (the runtime holds about 130 descriptors), filled in a moment.
    /// </summary>
    private const int FullHostFdLimit = 300;

    private static readonly IPEndPoint ProxyEndPoint = new(IPAddress.Loopback, ProxyPort);

    /// <summary>How long a filling connection waits for its echo before it counts as queued, not served.</summary>
    private static readonly TimeSpan NotServed = TimeSpan.FromMilliseconds(500);

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(3);
    private static readonly TimeSpan ConnectionTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// No shutdown delay: the old host closes its listeners right after SIGTERM, into the burst,
    /// the hardest moment for connections on their way to it.
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
        var load = await HandOverUnderLoadAsync("1", oldHostFull: false, ct);

        Assert.That(load.Failures, Is.Zero, $"with {MigrateSetting}=1 the queued connections move to the new process: {load.FailureReasons}");
    }

    /// <summary>
    /// The same handover with the setting off: whatever the kernel had queued on the old listeners
    /// when they closed is reset. The old host accepts until the moment it closes them, so that is
    /// a few connections at most, often none: the count is reported, not asserted.
    /// </summary>
    [Test]
    public async Task Handover_MigrateReqOff_FailuresCounted(CancellationToken ct)
    {
        var load = await HandOverUnderLoadAsync("0", oldHostFull: false, ct);

        Assert.That(load.Started, Is.GreaterThanOrEqualTo(Burst + AfterStop));
    }

    /// <summary>
    /// The old host has spent its connection budget, so its listeners stop accepting and the
    /// connections the kernel sends them wait in their queues (as under overload): all of those
    /// are still there when it stops, and the setting moves every one to the new host.
    /// </summary>
    [Test]
    public async Task Handover_OldHostFullMigrateReqOn_QueuedConnectionsMoveAndNoneFails(CancellationToken ct)
    {
        var load = await HandOverUnderLoadAsync("1", oldHostFull: true, ct);

        Assert.That(load.Failures, Is.Zero, $"with {MigrateSetting}=1 the queued connections move to the new process: {load.FailureReasons}");
    }

    /// <summary>The same with the setting off: the queued connections are reset, which shows the test above can see a loss.</summary>
    [Test]
    public async Task Handover_OldHostFullMigrateReqOff_QueuedConnectionsReset(CancellationToken ct)
    {
        var load = await HandOverUnderLoadAsync("0", oldHostFull: true, ct);

        Assert.That(load.Failures, Is.GreaterThan(0), "the connections queued on the old host were reset");
        Assert.That(load.FailureReasons, Does.Contain("ConnectionReset"));
    }

    private static async Task<ConnectionLoad> HandOverUnderLoadAsync(string migrate, bool oldHostFull, CancellationToken ct)
    {
        var ns = NetworkNamespace.Create((MigrateSetting, migrate));
        var held = new List<Socket>();
        try
        {
            await using var echo = EchoServer.On(ns.CreateSocket());
            var config = Config(echo);
            using var old = HostProcess.Start(config, HostEnvironment, fdLimit: oldHostFull ? FullHostFdLimit : null, wrapper: ns.Wrapper);
            await old.WaitForLineAsync("config applied", StartTimeout);
            if (oldHostFull)
            {
                await FillAsync(ns, old, held, ct);
            }

            var load = new ConnectionLoad(() => ns.CreateSocket(), ProxyEndPoint, Interval, ConnectionTimeout);
            await using (load)
            {
                load.Start();

                using var successor = HostProcess.Start(config, HostEnvironment, wrapper: ns.Wrapper);
                await successor.WaitForLineAsync($"listening on 127.0.0.1:{ProxyPort}", StartTimeout);
                await successor.WaitForLineAsync("config applied", StartTimeout);

                // Both processes take connections for a while before the old one stops.
                var before = load.Finished;
                await Wait.UntilAsync(() => load.Finished >= before + 100, ct);

                // Begun and not ended: on a full old host, mostly those waiting in its queue.
                var waiting = load.Started - load.Finished;
                var stopped = Stopwatch.StartNew();
                old.Signal(HostProcess.SigTerm);
                var burst = load.BurstAsync(Burst);
                var atStop = load.Started;
                if (oldHostFull)
                {
                    // The held connections keep the old host from accepting until its listeners
                    // are closed; then they end, so that it drains.
                    await old.WaitForLineAsync("listeners closed", ExitTimeout);
                    held.ForEach(static s => s.Dispose());
                }

                Assert.That(await old.WaitForExitAsync(ExitTimeout), Is.Zero, old.Output);
                var exited = stopped.Elapsed;
                await Wait.UntilAsync(() => load.Started >= atStop + AfterStop, ct);
                await burst;
                await load.StopAsync();

                var figures = string.Create(
                    CultureInfo.InvariantCulture,
                    $"{MigrateSetting}={migrate}{(oldHostFull ? ", old host full" : string.Empty)}: {load.Failures} of {load.Started} connections failed ({load.FailureReasons}); {waiting} were waiting for their echo just before SIGTERM; the old host exited {exited.TotalMilliseconds:F0} ms after it");
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
            held.ForEach(static s => s.Dispose());
            ns.Dispose();
        }
    }

    /// <summary>
    /// Opens connections through <paramref name="host"/> (the only listener yet) and keeps them,
    /// until one is not served: the host's connection budget is spent, and it has said so (1214).
    /// </summary>
    private static async Task FillAsync(NetworkNamespace ns, HostProcess host, List<Socket> held, CancellationToken ct)
    {
        var line = "held\n"u8.ToArray();
        while (true)
        {
            Assert.That(held, Has.Count.LessThan(FullHostFdLimit), $"the host's budget never ran out; output:{Environment.NewLine}{host.Output}");
            var socket = ns.CreateSocket();
            held.Add(socket);
            await socket.ConnectAsync(ProxyEndPoint, ct);
            await socket.SendAsync(line, SocketFlags.None, ct);
            using var served = CancellationTokenSource.CreateLinkedTokenSource(ct);
            served.CancelAfter(NotServed);
            try
            {
                Assert.That(await Sockets.ReadAsync(socket, line.Length, served.Token), Is.EqualTo(line));
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                break;
            }
        }

        await host.WaitForEventAsync(1214, StartTimeout);
    }

    private static string Config(EchoServer echo) =>
        HostProcess.ConfigJson(HostProcess.AppJson("a", [ProxyPort], [echo.Target]));
}

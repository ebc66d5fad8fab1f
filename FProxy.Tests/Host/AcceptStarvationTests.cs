using System.Diagnostics;
using System.Net.Sockets;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>
/// The host's accept loop when the process is out of descriptors (EMFILE): it logs once per burst,
/// backs off instead of spinning on the still-queued connection, and serves again once descriptors
/// are freed. The host runs as a child under <c>ulimit -n</c>; the exact limit is then set with
/// prlimit(2) from the descriptors it really holds after a warm-up, because what the runtime needs
/// (about 130 descriptors: every assembly is mapped through one, stdio, epoll, pipes) varies with
/// the build, and the parity of the free descriptors decides whether accept() or the target's
/// socket() is the call that fails.
/// </summary>
[CancelAfter(60_000)]
[NonParallelizable]
public sealed class AcceptStarvationTests
{
    /// <summary>Low enough to be a real limit, high enough for the runtime to start (it needs ~130).</summary>
    private const int StartFdLimit = 512;

    /// <summary>Descriptors left free for proxied connections (two each): ten connections fit.</summary>
    private const int FreeDescriptors = 20;

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);

    /// <summary>
    /// No diagnostic server: its IPC thread sits in a blocking accept(), which reserves the lowest
    /// free descriptor number without it ever appearing in /proc/PID/fd, so counting the free
    /// descriptors from that listing would be off by one (measured: fd 12 was never handed out).
    /// No tiered compilation: its background worker thread starts when methods get hot, and
    /// starting a thread takes a descriptor (CoreCLR aborts with "Out of memory." without one),
    /// which at an exact limit races the accepts. One I/O thread: which call meets EMFILE (accept
    /// or the target's socket) decides the count of served connections, and two loops racing for
    /// the last descriptors made it vary (the reserve's rules for several loops are in
    /// DescriptorReserve.TryBeginOpen).
    /// </summary>
    private static readonly Dictionary<string, string?> NoDiagnostics = new()
    {
        ["DOTNET_EnableDiagnostics"] = "0",
        ["DOTNET_EnableWriteXorExecute"] = "0",
        ["DOTNET_TieredCompilation"] = "0",
        ["FPROXY_IO_THREADS"] = "1",
    };

    [Test]
    public async Task AcceptLoop_OutOfDescriptors_LogsOnceDoesNotSpinAndServesAgainOnceFreed(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])), NoDiagnostics, fdLimit: StartFdLimit);
        await host.WaitForLineAsync("config applied", StartTimeout);
        await LimitDescriptorsAsync(host, port, FreeDescriptors);

        var clients = new List<Socket>();
        try
        {
            // Fill the free descriptors: each served connection holds two (client side, target side).
            Socket? starved = null;
            for (var i = 0; i <= FreeDescriptors / 2 + 2 && starved is null; i++)
            {
                var client = await Sockets.ConnectAsync(port, ct);
                clients.Add(client);
                if (!await IsServedAsync(host, client, TimeSpan.FromSeconds(i < FreeDescriptors / 2 ? 10 : 2), ct))
                {
                    starved = client;
                }
            }

            Assert.That(starved, Is.Not.Null, $"a client beyond the limit was still served; output:\n{host.Output}");
            Assert.That(clients, Has.Count.EqualTo(FreeDescriptors / 2 + 1), $"exactly the connections that fit were served; output:\n{host.Output}");
            await host.WaitForEventAsync(1210, TimeSpan.FromSeconds(10));

            // More clients queue in the backlog behind the first one: still one burst.
            for (var i = 0; i < 5; i++)
            {
                clients.Add(await Sockets.ConnectAsync(port, ct));
            }

            // A measurement window, not a wait for a condition: the loop must stay idle during it.
            var cpuBefore = host.CpuTime();
            var window = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
            var cpu = host.CpuTime() - cpuBefore;
            var share = cpu / window.Elapsed;
            TestContext.Out.WriteLine($"starved host used {cpu.TotalMilliseconds} ms CPU in {window.ElapsedMilliseconds} ms ({share:P0})");
            Assert.That(share, Is.LessThan(0.3), "the accept loop backs off instead of spinning");
            Assert.That(host.CountEvent(1210), Is.EqualTo(1), $"one warning per burst, not a flood; output:\n{host.Output}");
            Assert.That(host.CountEvent(1211), Is.Zero, $"no accept succeeded yet; output:\n{host.Output}");
            Assert.That(host.HasExited, Is.False);
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }

        // The closed connections free their descriptors; the next backoff retry accepts again.
        await host.WaitForEventAsync(1211, TimeSpan.FromSeconds(15));
        Assert.That(await Probe.EchoAsync(port, "again", ct), Is.EqualTo("again"));
        Assert.That(host.CountEvent(1210), Is.EqualTo(1));
        Assert.That(host.HasExited, Is.False, "the host survived the starvation");
        Assert.That(await host.StopAsync(TimeSpan.FromSeconds(15)), Is.Zero, host.Output);
    }

    [Test]
    public async Task Connect_TargetSocketOutOfDescriptors_ClientResetAndNoTargetLogged(CancellationToken ct)
    {
        await using var echo = new EchoServer();
        var port = TestConfigs.FreePorts(1)[0];
        using var host = HostProcess.Start(HostProcess.ConfigJson(HostProcess.AppJson("a", [port], [echo.Target])), NoDiagnostics, fdLimit: StartFdLimit);
        await host.WaitForLineAsync("config applied", StartTimeout);

        // One free descriptor: accept() takes it, so socket() for the target fails with EMFILE.
        await LimitDescriptorsAsync(host, port, free: 1);
        var end = await Sockets.ConnectAndReadEndAsync(port, ct);

        Assert.That(end, Is.EqualTo(SocketError.ConnectionReset), "a client is reset (linger 0) when no target can be reached");
        // Console logging is asynchronous: wait for the line rather than expect it already written.
        await host.WaitForAsync(() => host.CountEvent(1201) > 0, TimeSpan.FromSeconds(10), "the no-target warning (1201)");
        Assert.That(host.CountEvent(1213), Is.Zero, "a connect failure, not a handler failure");
    }

    /// <summary>
    /// Warms the data path (lazily loaded code opens descriptors), waits until the warm-up
    /// connections are closed, then sets the soft limit so that exactly <paramref name="free"/>
    /// descriptor numbers below it are unused.
    /// </summary>
    private static async Task LimitDescriptorsAsync(HostProcess host, int port, int free)
    {
        var sockets = host.OpenSocketCount();
        for (var i = 0; i < 3; i++)
        {
            Assert.That(await Probe.EchoAsync(port, "warm"), Is.EqualTo("warm"));
        }

        await host.WaitForAsync(() => host.OpenSocketCount() <= sockets, TimeSpan.FromSeconds(10), "the warm-up connections to close in the host");
        var open = host.OpenFileDescriptors();
        var limit = LimitLeavingFree(open, free);
        TestContext.Out.WriteLine($"host holds {open.Length} descriptors ({sockets} sockets); soft limit set to {limit}");
        host.SetOpenFileLimit(limit);
    }

    /// <summary>The smallest limit L such that exactly <paramref name="free"/> numbers in [0, L) are not open.</summary>
    private static int LimitLeavingFree(int[] open, int free)
    {
        var used = new HashSet<int>(open);
        var unused = 0;
        for (var fd = 0; ; fd++)
        {
            if (used.Contains(fd))
            {
                continue;
            }

            if (unused == free)
            {
                return fd;
            }

            unused++;
        }
    }

    /// <summary>Sends a byte and waits up to <paramref name="timeout"/> for its echo.</summary>
    private static async Task<bool> IsServedAsync(HostProcess host, Socket client, TimeSpan timeout, CancellationToken ct)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            await client.SendAsync("s"u8.ToArray(), SocketFlags.None, cts.Token);
            return (await Sockets.ReadAsync(client, 1, cts.Token)).Length == 1;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
        catch (SocketException e)
        {
            Assert.Fail($"client {client.LocalEndPoint} ended with {e.SocketErrorCode} instead of being served or left waiting; host output:\n{host.Output}");
            throw;
        }
    }
}

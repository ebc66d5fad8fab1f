using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>
/// The host holding 9,000 proxied connections at once, every one echoing correctly, then giving
/// back what they took. The clients are this process, the backend is an ftest echo process and
/// the proxy is the built host, so each process stays well inside the usual 20,000 open files:
/// the host needs two descriptors per connection.
/// </summary>
[Category("Scale")]
public sealed partial class HostScaleTests
{
    private const int Connections = 9_000;

    /// <summary>How many connects and echoes are in flight at once: far below the listen backlogs.</summary>
    private const int InFlight = 200;

    [Test]
    [CancelAfter(300_000)]
    public async Task NineThousandConnections_EachEchoesWhileAllOpen_ThenDescriptorsAndMemoryReturn(CancellationToken ct)
    {
        CheckOwnOpenFilesLimit(Connections + 1_000);
        var ports = TestConfigs.FreePorts(2);
        await using var echo = StartEcho(ports[1]);
        await echo.WaitUntilAcceptingAsync([new IPEndPoint(IPAddress.Loopback, ports[1])], TimeSpan.FromSeconds(30));
        var environment = HostProcess.WithAdmin();
        environment["FPROXY_TRANSPORT"] = Environment.GetEnvironmentVariable("FPROXY_TRANSPORT");
        using var host = HostProcess.Start(
            HostProcess.ConfigJson(HostProcess.AppJson("scale", [ports[0]], [$"127.0.0.1:{ports[1]}"], connectTimeout: "10s")),
            environment);
        await host.WaitForPortAsync(ports[0], TimeSpan.FromSeconds(30));
        using var admin = new AdminClient(host);

        // It says what it can hold, from the open files limit it raised at start.
        await host.WaitForEventAsync(1401, TimeSpan.FromSeconds(10));
        var room = long.Parse(RoomPattern().Match(host.Output).Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.That(room, Is.GreaterThanOrEqualTo(Connections), host.Output);

        // A first connection warms the path up, so the start figures are the idle host's.
        Assert.That(await Probe.EchoAsync(ports[0], "warm", ct), Is.EqualTo("warm"));
        await host.WaitForAsync(() => Active(admin, ct) == 0, TimeSpan.FromSeconds(30), "the warm-up connection to close");
        var start = await SampleAsync(host, admin, ct);
        var startFiles = Files(host);

        var clients = new Socket[Connections];
        var opened = Stopwatch.StartNew();
        await ForEachAsync(Connections, async i =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            clients[i] = socket;
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, ports[0]), ct);
            await EchoAsync(socket, i, round: 1, ct);
        }, ct);
        opened.Stop();

        // All are open at once: a second echo on each, after the last one was opened.
        await ForEachAsync(Connections, i => EchoAsync(clients[i], i, round: 2, ct), ct);
        var (status, apps) = await admin.GetJsonAsync("/apps", ct);
        Assert.That(status, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(ActiveConnections(apps), Is.EqualTo(Connections), apps.ToString());
        var peak = await SampleAsync(host, admin, ct);
        Assert.That(peak.Descriptors - start.Descriptors, Is.GreaterThanOrEqualTo(2 * Connections), "two descriptors per proxied connection");

        var closing = Stopwatch.StartNew();
        foreach (var socket in clients)
        {
            socket.Dispose();
        }

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var active = Active(admin, ct);
            var descriptors = host.OpenFileDescriptors().Length;
            if (active == 0 && descriptors <= start.Descriptors + DescriptorSlack)
            {
                break;
            }

            Assert.That(deadline.Elapsed, Is.LessThan(TimeSpan.FromSeconds(60)),
                $"the host's connections to end and its descriptors to return to {start.Descriptors}: {active} active, {descriptors} descriptors ({NewFiles(host, startFiles)})");
            await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
        }

        closing.Stop();
        var end = await SampleAsync(host, admin, ct);

        // Memory: the buffers the echoes took go back to the runtime within a minute of no
        // traffic (a quarter of the unneeded ones every 10 s), and the GC heap shrinks at its next
        // collection. What may stay is the runtime's own growth: thread stacks, JIT, pools.
        var settled = await SettleAsync(host, admin, start, ct);
        TestContext.Out.WriteLine($"""
            {Connections} connections ({Environment.GetEnvironmentVariable("FPROXY_TRANSPORT") ?? "default"} transport): opened and echoed in {opened.Elapsed.TotalSeconds:F1} s, closed in {closing.Elapsed.TotalSeconds:F1} s; host says room for {room}
            start:   {start}
            peak:    {peak}   ({(peak.RssBytes - start.RssBytes) / Connections} B RSS, {(peak.GcHeapBytes - start.GcHeapBytes) / Connections} B GC heap per connection)
            closed:  {end}; descriptors not open at the start: {NewFiles(host, startFiles)}
            settled: {settled}
            """);
        Assert.That(end.Descriptors, Is.LessThanOrEqualTo(start.Descriptors + DescriptorSlack), $"descriptors back to the start; new: {NewFiles(host, startFiles)}");
        Assert.That(settled.RssBytes, Is.LessThanOrEqualTo(start.RssBytes + MemorySlack(peak, start)), $"RSS back near the start: {settled}");
    }

    /// <summary>
    /// Descriptors the runtime may have opened for itself on the way (the sockets transport's
    /// engine, say): a few, never one per connection.
    /// </summary>
    private const int DescriptorSlack = 8;

    /// <summary>The host's descriptors by number, with what each points to.</summary>
    private static Dictionary<string, string> Files(HostProcess host)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var fd in Directory.GetFiles($"/proc/{host.Pid}/fd"))
        {
            try
            {
                files[Path.GetFileName(fd)] = new FileInfo(fd).LinkTarget ?? "?";
            }
            catch (IOException)
            {
                // Closed while listing.
            }
        }

        return files;
    }

    private static string NewFiles(HostProcess host, Dictionary<string, string> start)
    {
        var added = Files(host).Where(f => !start.TryGetValue(f.Key, out var target) || target != f.Value).Select(static f => $"{f.Key} -> {f.Value}").ToList();
        return added.Count == 0 ? "none" : string.Join(", ", added.Take(10));
    }

    /// <summary>What RSS may keep of the peak: a tenth of its growth, at least 16 MiB.</summary>
    private static long MemorySlack(Sample peak, Sample start) => Math.Max(16L << 20, (peak.RssBytes - start.RssBytes) / 10);

    private static async Task<Sample> SettleAsync(HostProcess host, AdminClient admin, Sample start, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        var sample = await SampleAsync(host, admin, ct);
        while (sample.RssBytes > start.RssBytes + (16L << 20) && deadline.Elapsed < TimeSpan.FromSeconds(90))
        {
            await Task.Delay(TimeSpan.FromSeconds(2), ct);
            sample = await SampleAsync(host, admin, ct);
        }

        return sample;
    }

    private static async Task EchoAsync(Socket socket, int index, int round, CancellationToken ct)
    {
        var sent = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(sent, index);
        BinaryPrimitives.WriteInt32BigEndian(sent.AsSpan(4), round);
        await socket.SendAsync(sent, SocketFlags.None, ct);
        var received = await Sockets.ReadAsync(socket, sent.Length, ct);
        if (!received.AsSpan().SequenceEqual(sent))
        {
            throw new AssertionException($"connection {index}, round {round}: echoed {Convert.ToHexString(received)}, sent {Convert.ToHexString(sent)}");
        }
    }

    /// <summary>Runs <paramref name="work"/> for 0..count-1, <see cref="InFlight"/> at a time.</summary>
    private static async Task ForEachAsync(int count, Func<int, Task> work, CancellationToken ct) =>
        await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = InFlight, CancellationToken = ct }, async (i, _) => await work(i));

    private static long Active(AdminClient admin, CancellationToken ct) =>
        ActiveConnections(admin.GetJsonAsync("/apps", ct).GetAwaiter().GetResult().Json);

    private static long ActiveConnections(System.Text.Json.JsonElement apps) =>
        apps.GetProperty("apps").EnumerateArray().Sum(static a => a.GetProperty("activeConnections").GetInt64());

    private static async Task<Sample> SampleAsync(HostProcess host, AdminClient admin, CancellationToken ct)
    {
        var status = File.ReadAllText($"/proc/{host.Pid}/status");
        var rssKb = long.Parse(StatusPattern().Match(status).Groups[1].Value, CultureInfo.InvariantCulture);
        var (_, metrics) = await admin.GetAsync("/metrics", ct);
        long heap = 0;
        foreach (Match match in HeapPattern().Matches(metrics))
        {
            heap += (long)double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        }

        var pause = PausePattern().Match(metrics) is { Success: true } paused ? double.Parse(paused.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        return new Sample(host.OpenFileDescriptors().Length, rssKb * 1024, heap, pause);
    }

    /// <summary>An ftest echo backend on <paramref name="port"/>, tied to this process so that it never outlives the test.</summary>
    private static ExternalServerProcess StartEcho(int port)
    {
        var dotnet = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        return ExternalServerProcess.Start("ftest echo", dotnet,
            [Path.Combine(AppContext.BaseDirectory, "FProxy.FTest.dll"), "echo", port.ToString(CultureInfo.InvariantCulture)], AppContext.BaseDirectory);
    }

    /// <summary>This process holds one descriptor per client (the runtime raised its soft limit to the hard one at start).</summary>
    private static void CheckOwnOpenFilesLimit(int needed)
    {
        using var self = Process.GetCurrentProcess();
        var limits = File.ReadAllLines($"/proc/{self.Id}/limits").Single(static l => l.StartsWith("Max open files", StringComparison.Ordinal));
        var fields = limits["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var hard = fields[1] == "unlimited" ? long.MaxValue : long.Parse(fields[1], CultureInfo.InvariantCulture);
        Assert.That(hard, Is.GreaterThanOrEqualTo(needed), $"this test needs {needed} open files in the test process; the hard limit is {hard} (ulimit -Hn)");
    }

    [GeneratedRegex(@"room for about (\d+) proxied connections")]
    private static partial Regex RoomPattern();

    [GeneratedRegex(@"VmRSS:\s+(\d+) kB")]
    private static partial Regex StatusPattern();

    [GeneratedRegex(@"^dotnet_gc_last_collection_heap_size_bytes\{[^}]*\} (\S+)", RegexOptions.Multiline)]
    private static partial Regex HeapPattern();

    [GeneratedRegex(@"^dotnet_gc_pause_time_seconds_total\{[^}]*\} (\S+)", RegexOptions.Multiline)]
    private static partial Regex PausePattern();

    private readonly record struct Sample(int Descriptors, long RssBytes, long GcHeapBytes, double GcPauseSeconds)
    {
        public override string ToString() =>
            $"{Descriptors} descriptors, RSS {RssBytes / (1 << 20)} MiB, GC heap {GcHeapBytes / (1 << 20)} MiB, GC pauses {GcPauseSeconds * 1000:F0} ms in all";
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using FProxy.Configuration;
using FProxy.Tests.Configuration;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Daemon;

[CancelAfter(120_000)]
public sealed class ProxyDaemonLoadTests
{
    private string _dir = null!;

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("fproxy-load-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    [Test]
    public async Task RunAsync_TwentyRenameSavesUnderLoad_PortThatStaysLosesNoConnection(CancellationToken ct)
    {
        await using var a = new EchoServer();
        await using var b = new EchoServer();
        await using var daemon = DaemonFixture.Create();
        var ports = TestConfigs.FreePorts(3);
        var stays = ports[0];
        var path = Path.Combine(_dir, "config.json");
        Save(path, Json(0, ports));
        var subscriber = new FileConfigSubscriber(path, new TestLogger<FileConfigSubscriber>())
        {
            Debounce = TimeSpan.FromMilliseconds(20),
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = daemon.RunAsync(subscriber, stop.Token);
        await Wait.UntilAsync(() => daemon.BoundPorts.Contains(stays), TimeSpan.FromSeconds(10), "the first config");

        // A long-lived connection that keeps talking through every reload.
        using var longLived = await Sockets.ConnectAsync(stays, ct);
        var failures = new List<string>();
        var roundTrips = 0;
        using var loadDone = new CancellationTokenSource();
        var workers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var source = IPAddress.Parse($"127.0.0.{10 + w}");
            // Bounded: at most 2,500 connections per worker (TIME_WAIT and 2 cores set the budget).
            for (var i = 0; i < 2500 && !loadDone.IsCancellationRequested; i++)
            {
                try
                {
                    using var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    client.Bind(new IPEndPoint(source, 0)); // Spread over sources: no ephemeral-port exhaustion.
                    await client.ConnectAsync(new IPEndPoint(IPAddress.Loopback, stays), ct);
                    await client.SendAsync("hello"u8.ToArray(), SocketFlags.None, ct);
                    var reply = await Sockets.ReadAsync(client, 5, ct);
                    if (Encoding.ASCII.GetString(reply) != "hello")
                    {
                        lock (failures)
                        {
                            failures.Add($"wrong reply \"{Encoding.ASCII.GetString(reply)}\"");
                        }
                    }

                    Interlocked.Increment(ref roundTrips);
                }
                catch (SocketException e)
                {
                    lock (failures)
                    {
                        failures.Add(e.SocketErrorCode.ToString());
                    }
                }
            }
        }, ct)).ToArray();

        for (var version = 1; version <= 20; version++)
        {
            Save(path, Json(version, ports));
            var expected = version;
            await Wait.UntilAsync(() => daemon.Current.Apps[0].ConnectTimeout == TimeSpan.FromMilliseconds(1000 + expected), TimeSpan.FromSeconds(10), $"reload {version}");
            await longLived.SendAsync("x"u8.ToArray(), SocketFlags.None, ct);
            Assert.That(await Sockets.ReadAsync(longLived, 1, ct), Is.EqualTo("x"u8.ToArray()), $"long-lived connection after reload {version}");
        }

        await loadDone.CancelAsync();
        await Task.WhenAll(workers);
        await stop.CancelAsync();
        try
        {
            await run;
        }
        catch (OperationCanceledException)
        {
            // The watch ends by cancellation.
        }

        TestContext.Out.WriteLine($"{roundTrips} round trips across 20 reloads, {failures.Count} failures");
        Assert.That(failures, Is.Empty, $"failures among {roundTrips} round trips");
        Assert.That(roundTrips, Is.GreaterThan(100), "the load ran across the reloads");

        string Json(int version, int[] p)
        {
            // Alternate targets and the extra ports, change a setting every time: all reroutes of the port that stays.
            var targets = version % 2 == 0 ? $"\"{a.Target}\", \"{b.Target}\"" : $"\"{b.Target}\"";
            var extra = version % 3 == 0 ? $", {p[1]}" : version % 3 == 1 ? $", {p[2]}" : string.Empty;
            return $$"""{"Apps": [{"Name": "load", "Ports": [{{p[0]}}{{extra}}], "Targets": [{{targets}}], "Bind": "127.0.0.1", "ConnectTimeout": "{{1000 + version}}ms"}]}""";
        }
    }

    private static void Save(string path, string json)
    {
        // Editors' way: write a temp file, then rename it over the config.
        var temp = path + ".tmp";
        File.WriteAllText(temp, json);
        File.Move(temp, path, overwrite: true);
    }
}

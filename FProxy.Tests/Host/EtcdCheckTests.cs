using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using FProxy.Host;
using FProxy.Tests.Infrastructure;
using static FProxy.Tests.Etcd.EtcdApps;

namespace FProxy.Tests.Host;

/// <summary>
/// <c>FProxy.Host --check</c> with FPROXY_ETCD_ENDPOINTS, run as an operator runs it: every app key
/// under the prefix checked, exit 0 (all valid), 2 (naming each bad key) or 1 (etcd not reachable,
/// promptly).
/// </summary>
[Category("Etcd")]
[CancelAfter(60_000)]
public sealed class EtcdCheckTests
{
    private static readonly TimeSpan ExitTimeout = TimeSpan.FromSeconds(20);

    /// <summary>How long an unreachable etcd may hold the check up: the 5 s request timeout and a margin for a loaded machine.</summary>
    private static readonly TimeSpan UnreachableLimit = TimeSpan.FromSeconds(12);

    private EtcdServer _etcd = null!;

    [OneTimeSetUp]
    public async Task StartEtcd() => _etcd = await EtcdServer.StartAsync();

    [OneTimeTearDown]
    public async Task StopEtcd() => await _etcd.DisposeAsync();

    [Test]
    public async Task Check_EveryKeyValid_ExitsZeroPrintingOkAndTheRevision()
    {
        var prefix = NewPrefix();
        await _etcd.PutAsync(Key("a", prefix), Json("a", 7801, 7802));
        await _etcd.PutAsync(Key("b", prefix), Json("b", 7803));
        var revision = await _etcd.RevisionAsync();

        using var host = Check(_etcd.Endpoint, prefix);

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.Zero, host.Output);
        Assert.Multiple(() =>
        {
            Assert.That(host.Lines, Has.Some.EqualTo(
                $"etcd {new Uri(_etcd.Endpoint)} {prefix}/apps/: ok (2 app(s), 3 port(s)) at revision {revision.ToString(CultureInfo.InvariantCulture)}"));
            Assert.That(host.ErrorLines, Is.Empty);
        });
    }

    [Test]
    public async Task Check_BadKeys_ExitsTwoNamingEachOnStderr()
    {
        var prefix = NewPrefix();
        await _etcd.PutAsync(Key("good", prefix), Json("good", 7811));
        await _etcd.PutAsync(Key("broken", prefix), "{\"Name\":\"broken\",");
        await _etcd.PutAsync(Key("clash", prefix), Json("clash", 7811));
        await _etcd.PutAsync(Key("colour", prefix), "{\"Name\":\"colour\",\"Ports\":[7812],\"Targets\":[\"127.0.0.1:9\"],\"Colour\":1}");

        using var host = Check(_etcd.Endpoint, prefix);

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.EqualTo(2), host.Output);
        var errors = host.ErrorLines;
        Assert.Multiple(() =>
        {
            Assert.That(errors, Has.Count.EqualTo(3), host.Output);
            Assert.That(errors, Has.Some.StartsWith($"fproxy: {Key("broken", prefix)}: ").And.Contain("invalid JSON"));
            Assert.That(errors, Has.Some.StartsWith($"fproxy: {Key("clash", prefix)}: ").And.Contain("port 7811 is already used by app \"good\""));
            Assert.That(errors, Has.Some.StartsWith($"fproxy: {Key("colour", prefix)}: ").And.Contain("\"Colour\""));
            Assert.That(errors, Has.None.StartsWith($"fproxy: {Key("good", prefix)}:"), "the valid key is not named");
            Assert.That(host.Lines, Has.Some.Contains("3 of 4 key(s) invalid at revision").And.Contain("the other 1 app(s), 1 port(s) would apply"));
        });
    }

    [Test]
    public async Task Check_NothingListensOnTheEndpoint_ExitsOnePromptly()
    {
        var unused = TestPorts.Take(1)[0];
        var started = Stopwatch.StartNew();
        using var host = Check($"http://127.0.0.1:{unused.ToString(CultureInfo.InvariantCulture)}", NewPrefix());

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.EqualTo(1), host.Output);
        Assert.Multiple(() =>
        {
            Assert.That(started.Elapsed, Is.LessThan(UnreachableLimit));
            Assert.That(host.ErrorLines, Has.Some.StartsWith("fproxy: etcd http://127.0.0.1:").And.Contain("etcd cannot be reached"));
        });
    }

    [Test]
    public async Task Check_EndpointAcceptsButNeverAnswers_ExitsOneWithinTheRequestTimeout()
    {
        // A listener nobody accepts from: the kernel completes the handshake, and nothing ever answers.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        silent.Listen(16);
        var started = Stopwatch.StartNew();
        using var host = Check($"http://{silent.LocalEndPoint}", NewPrefix());

        Assert.That(await host.WaitForExitAsync(ExitTimeout), Is.EqualTo(1), host.Output);
        Assert.Multiple(() =>
        {
            Assert.That(started.Elapsed, Is.LessThan(UnreachableLimit));
            Assert.That(host.ErrorLines, Has.Some.Contains("etcd cannot be reached"));
        });
        TestContext.Progress.WriteLine($"silent endpoint: exit after {started.Elapsed.TotalSeconds:0.0} s");
    }

    /// <summary>Each test has a prefix of its own on the shared server.</summary>
    private static string NewPrefix() => "/c" + Guid.NewGuid().ToString("N")[..8];

    private static HostProcess Check(string endpoints, string prefix) => HostProcess.Start(
        null,
        new Dictionary<string, string?>
        {
            [EtcdSettings.EndpointsVariable] = endpoints,
            [EtcdSettings.PrefixVariable] = prefix,
        },
        ["--check"]);
}

using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A real HAProxy (Debian's) of the test's own, in front of one server and sending it a PROXY
/// protocol header (<c>send-proxy</c> or <c>send-proxy-v2</c>): one process in the foreground
/// (<c>-db</c>), mode tcp, its config in a temporary directory, a frontend on a loopback port on
/// 127.0.0.1 and [::1]. No health checks, so every connection the server gets is a client's.
/// Fails, never skips, when HAProxy is not installed.
/// </summary>
internal sealed class HaproxyServer : IAsyncDisposable
{
    /// <summary>What to run when HAProxy is missing.</summary>
    public const string InstallHint = "HAProxy is not installed: run `sudo apt-get install haproxy` (.ci/run does it)";

    private readonly string _directory;
    private readonly ExternalServerProcess _process;

    private HaproxyServer(string directory, ExternalServerProcess process, int port)
    {
        _directory = directory;
        _process = process;
        Port = port;
    }

    /// <summary>The frontend's port, on 127.0.0.1 and [::1].</summary>
    public int Port { get; }

    /// <summary>What HAProxy printed, for failure messages.</summary>
    public string Output => _process.Output;

    /// <summary>The path of the haproxy binary, or a failure naming how to install it.</summary>
    public static string Binary
    {
        get
        {
            foreach (var candidate in new[] { "/usr/sbin/haproxy", "/usr/local/sbin/haproxy" })
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            Assert.Fail(InstallHint);
            return string.Empty;
        }
    }

    /// <summary>The frontend on the loopback address of <paramref name="family"/>.</summary>
    public IPEndPoint EndPoint(AddressFamily family = AddressFamily.InterNetwork) =>
        new(family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, Port);

    /// <summary>Starts HAProxy in front of <paramref name="server"/> and waits until its frontend accepts.</summary>
    /// <param name="server">Where every connection goes.</param>
    /// <param name="version">The header it sends first: 1 (<c>send-proxy</c>) or 2 (<c>send-proxy-v2</c>).</param>
    /// <param name="tlvs">
    /// Whether a v2 header carries TLVs after the addresses: a unique id and a CRC32c of the header
    /// (<c>proxy-v2-options crc32c,unique-id</c>).
    /// </param>
    public static async Task<HaproxyServer> StartAsync(IPEndPoint server, int version, bool tlvs = false)
    {
        Assert.That(version, Is.InRange(1, 2), "a PROXY protocol version");
        Assert.That(!tlvs || version == 2, Is.True, "only v2 carries TLVs");
        var binary = Binary;
        var port = TestPorts.Take(1)[0];
        var directory = Directory.CreateTempSubdirectory("fproxy-haproxy-").FullName;
        var config = Path.Combine(directory, "haproxy.cfg");
        await File.WriteAllTextAsync(config, Config(port, server, version, tlvs));

        var process = ExternalServerProcess.Start("haproxy", binary, ["-f", config, "-db"], directory);
        var haproxy = new HaproxyServer(directory, process, port);
        try
        {
            await process.WaitUntilAcceptingAsync([haproxy.EndPoint(), haproxy.EndPoint(AddressFamily.InterNetworkV6)], TimeSpan.FromSeconds(10));
        }
        catch
        {
            await haproxy.DisposeAsync();
            throw;
        }

        return haproxy;
    }

    /// <summary>Stops HAProxy (SIGTERM) and waits for it to exit.</summary>
    /// <returns>Its exit status: HAProxy ends on SIGTERM without a status of its own (143 through the shell).</returns>
    public Task<int> StopAsync() => _process.StopAsync(TimeSpan.FromSeconds(10));

    public async ValueTask DisposeAsync()
    {
        await _process.DisposeAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held; the temp directory is cleaned by the system.
        }
    }

    private static string Config(int port, IPEndPoint server, int version, bool tlvs)
    {
        var frontend = port.ToString(CultureInfo.InvariantCulture);
        var target = server.AddressFamily == AddressFamily.InterNetworkV6
            ? $"[{server.Address}]:{server.Port.ToString(CultureInfo.InvariantCulture)}"
            : $"{server.Address}:{server.Port.ToString(CultureInfo.InvariantCulture)}";
        var send = version == 1 ? "send-proxy" : "send-proxy-v2";
        var uniqueId = tlvs ? "unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid" : string.Empty;
        var options = tlvs ? " proxy-v2-options crc32c,unique-id" : string.Empty;

        // No "log" (nothing to read it), no stats socket, no "user": the tests' user runs it.
        return $"""
            global
                maxconn 256
            defaults
                mode tcp
                timeout connect 5s
                timeout client 30s
                timeout server 30s
            frontend fe
                bind 127.0.0.1:{frontend}
                bind [::1]:{frontend}
                {uniqueId}
                default_backend be
            backend be
                server s1 {target} {send}{options}

            """;
    }
}

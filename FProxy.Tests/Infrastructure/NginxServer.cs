using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A real nginx (Debian's, with its stream module) of the test's own, as a PROXY protocol peer:
/// one process in the foreground (no daemon, no master), its config, pid file and logs in a
/// temporary directory, and two stream servers on loopback ports, each on 127.0.0.1 and [::1].
/// <list type="bullet">
/// <item><see cref="ProxyProtocolPort"/> listens with <c>proxy_protocol</c> and answers each
/// connection with one line, <c>$proxy_protocol_addr:$proxy_protocol_port
/// $proxy_protocol_server_addr:$proxy_protocol_server_port</c>: the client and destination the
/// header claimed. A connection without a valid header is closed with no answer.</item>
/// <item><see cref="PlainPort"/> listens without it and answers <c>$remote_addr:$remote_port
/// $server_addr:$server_port</c>: who really connected.</item>
/// </list>
/// nginx writes IPv6 addresses without brackets (<c>::1:5000</c>); <see cref="ParseReply"/> reads
/// the line. Fails, never skips, when nginx or its stream module is not installed.
/// </summary>
internal sealed class NginxServer : IAsyncDisposable
{
    /// <summary>What to run when nginx or its stream module is missing.</summary>
    public const string InstallHint =
        "nginx with its stream module is not installed: run `sudo apt-get install nginx libnginx-mod-stream` (.ci/run does it)";

    /// <summary>Where Debian's nginx keeps its dynamic modules; the stream module is one of them there.</summary>
    public const string ModuleDirectory = "/usr/lib/nginx/modules";

    private readonly string _directory;
    private readonly ExternalServerProcess _process;

    private NginxServer(string directory, ExternalServerProcess process, int proxyProtocolPort, int plainPort)
    {
        _directory = directory;
        _process = process;
        ProxyProtocolPort = proxyProtocolPort;
        PlainPort = plainPort;
    }

    /// <summary>The port of the stream server that reads a PROXY protocol header first and answers with its addresses.</summary>
    public int ProxyProtocolPort { get; }

    /// <summary>The port of the stream server without <c>proxy_protocol</c>, which answers with the real peer's address.</summary>
    public int PlainPort { get; }

    /// <summary>What nginx printed (its error log goes to stderr), for failure messages.</summary>
    public string Output => _process.Output;

    /// <summary>The path of the nginx binary, or a failure naming how to install it.</summary>
    public static string Binary
    {
        get
        {
            foreach (var candidate in new[] { "/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx" })
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

    /// <summary>
    /// The stream module's file when this nginx has it as a dynamic module (Debian: the
    /// libnginx-mod-stream package), or null when it is not there (built in, or missing: then
    /// nginx refuses the <c>stream</c> block, and starting fails naming the install).
    /// </summary>
    public static string? StreamModule
    {
        get
        {
            var path = Path.Combine(ModuleDirectory, "ngx_stream_module.so");
            return File.Exists(path) ? path : null;
        }
    }

    /// <summary><see cref="ProxyProtocolPort"/> on the loopback address of <paramref name="family"/>.</summary>
    public IPEndPoint ProxyProtocolEndPoint(AddressFamily family = AddressFamily.InterNetwork) => new(Loopback(family), ProxyProtocolPort);

    /// <summary><see cref="PlainPort"/> on the loopback address of <paramref name="family"/>.</summary>
    public IPEndPoint PlainEndPoint(AddressFamily family = AddressFamily.InterNetwork) => new(Loopback(family), PlainPort);

    /// <summary>Starts nginx and waits until all four listeners accept.</summary>
    public static async Task<NginxServer> StartAsync()
    {
        var binary = Binary;
        var ports = TestPorts.Take(2);
        var directory = Directory.CreateTempSubdirectory("fproxy-nginx-").FullName;
        var config = Path.Combine(directory, "nginx.conf");
        await File.WriteAllTextAsync(config, Config(directory, ports[0], ports[1]));

        // -p: the prefix of relative paths, the directory rather than /usr/share/nginx; -e: the
        // error log before the config is read, which a build may otherwise put under /var/log.
        var process = ExternalServerProcess.Start("nginx", binary, ["-p", directory + "/", "-c", config, "-e", "stderr"], directory);
        var server = new NginxServer(directory, process, ports[0], ports[1]);
        try
        {
            await process.WaitUntilAcceptingAsync(
                [server.ProxyProtocolEndPoint(), server.ProxyProtocolEndPoint(AddressFamily.InterNetworkV6), server.PlainEndPoint(), server.PlainEndPoint(AddressFamily.InterNetworkV6)],
                TimeSpan.FromSeconds(10),
                static output => output.Contains("unknown directive \"stream\"", StringComparison.Ordinal) ? InstallHint : null);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>
    /// Connects to <paramref name="endPoint"/>, sends <paramref name="first"/> (a header, or
    /// nothing for <see cref="PlainPort"/>), and returns the line nginx answers with ("" when it
    /// closed without one).
    /// </summary>
    public static async Task<string> AskAsync(IPEndPoint endPoint, ReadOnlyMemory<byte> first, CancellationToken ct)
    {
        using var socket = await Sockets.ConnectAsync(endPoint, ct);
        return await AskAsync(socket, first, ct);
    }

    /// <summary>Sends <paramref name="first"/> on a connected socket and returns the line that comes back ("" when none).</summary>
    public static async Task<string> AskAsync(Socket socket, ReadOnlyMemory<byte> first, CancellationToken ct)
    {
        if (!first.IsEmpty)
        {
            await socket.SendAsync(first, SocketFlags.None, ct);
        }

        var line = new List<byte>();
        var one = new byte[1];
        try
        {
            while (await socket.ReceiveAsync(one, SocketFlags.None, ct) == 1 && one[0] != (byte)'\n')
            {
                line.Add(one[0]);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            // Refused without an answer, as nginx does a broken header.
        }

        return Encoding.ASCII.GetString([.. line]);
    }

    /// <summary>Reads an answer line: the source and the destination, each <c>address:port</c> with IPv6 unbracketed.</summary>
    public static (IPEndPoint Source, IPEndPoint Destination) ParseReply(string line)
    {
        var parts = line.Split(' ');
        Assert.That(parts, Has.Length.EqualTo(2), $"nginx's answer \"{line}\" is not two addresses");
        return (ParseEndPoint(parts[0]), ParseEndPoint(parts[1]));
    }

    /// <summary>Stops nginx (SIGTERM, its fast shutdown) and fails unless it exits 0 within 10 s.</summary>
    public async Task StopAsync()
    {
        var status = await _process.StopAsync(TimeSpan.FromSeconds(10));
        Assert.That(status, Is.Zero, $"nginx's exit status; output:{Environment.NewLine}{Output}");
    }

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

    private static string Config(string directory, int proxyProtocolPort, int plainPort)
    {
        var pp = proxyProtocolPort.ToString(CultureInfo.InvariantCulture);
        var plain = plainPort.ToString(CultureInfo.InvariantCulture);
        var module = StreamModule is { } path ? $"load_module {path};\n" : string.Empty;

        // One process, in the foreground, as the tests' user: no master to fork workers, no
        // "user" directive. The pid file is in the directory; there is no http block, so none of
        // the http temp paths (compiled in under /var/lib/nginx) is made or needed.
        return module + $$"""
            daemon off;
            master_process off;
            worker_processes 1;
            pid {{directory}}/nginx.pid;
            error_log stderr notice;
            events {
                worker_connections 256;
            }
            stream {
                server {
                    listen 127.0.0.1:{{pp}} proxy_protocol;
                    listen [::1]:{{pp}} proxy_protocol;
                    proxy_protocol_timeout 3s;
                    return "$proxy_protocol_addr:$proxy_protocol_port $proxy_protocol_server_addr:$proxy_protocol_server_port\n";
                }
                server {
                    listen 127.0.0.1:{{plain}};
                    listen [::1]:{{plain}};
                    return "$remote_addr:$remote_port $server_addr:$server_port\n";
                }
            }

            """;
    }

    private static IPEndPoint ParseEndPoint(string text)
    {
        var colon = text.LastIndexOf(':');
        Assert.That(colon, Is.GreaterThan(0), $"\"{text}\" is not address:port");
        return new IPEndPoint(IPAddress.Parse(text[..colon]), int.Parse(text[(colon + 1)..], CultureInfo.InvariantCulture));
    }

    private static IPAddress Loopback(AddressFamily family) =>
        family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback;
}

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Etcdserverpb;
using FProxy.Etcd;
using Google.Protobuf;
using Grpc.Core;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A real etcd server (Debian's etcd-server) of the test's own: loopback ports, a temporary data
/// directory, stopped and restarted on the same ports and data as a test needs. Fails, never
/// skips, when etcd is not installed.
/// </summary>
internal sealed class EtcdServer : IAsyncDisposable
{
    private const string InstallHint = "etcd is not installed: run `sudo apt-get install etcd-server etcd-client` (.ci/run does it)";

    private readonly string _dataDirectory;
    private readonly int _clientPort;
    private readonly int _peerPort;
    private readonly string[] _extraArgs;
    private readonly string? _caFile;
    private readonly bool _waitForClient;
    private readonly StringBuilder _output = new();
    private Process? _process;
    private EtcdConnection? _connection;
    private (string Name, string Password)? _user;

    private EtcdServer(string dataDirectory, int clientPort, int peerPort, string[] extraArgs, string scheme, string? caFile, bool waitForClient)
    {
        _dataDirectory = dataDirectory;
        _clientPort = clientPort;
        _peerPort = peerPort;
        _extraArgs = extraArgs;
        _caFile = caFile;
        _waitForClient = waitForClient;
        Endpoint = $"{scheme}://127.0.0.1:{clientPort.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>The client URL, such as <c>http://127.0.0.1:34567</c>.</summary>
    public string Endpoint { get; }

    /// <summary>Whether the server process runs now.</summary>
    public bool IsRunning => _process is { HasExited: false };

    /// <summary>What etcd printed, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The path of the etcd binary, or a failure naming how to install it.</summary>
    public static string Binary
    {
        get
        {
            foreach (var candidate in new[] { "/usr/bin/etcd", "/usr/local/bin/etcd" })
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

    /// <summary>Starts a fresh server and waits until it answers.</summary>
    /// <param name="extraArgs">More etcd flags (TLS certificates).</param>
    /// <param name="scheme">The client URL scheme: https when <paramref name="extraArgs"/> sets certificates.</param>
    /// <param name="caFile">The CA that signed the server's certificate: <see cref="Options"/> and etcdctl trust it.</param>
    /// <param name="waitForClient">
    /// Whether starting waits until the test's own client is served; false waits only until the
    /// port accepts, for a server whose certificate the client must refuse.
    /// </param>
    public static async Task<EtcdServer> StartAsync(string[]? extraArgs = null, string scheme = "http", string? caFile = null, bool waitForClient = true)
    {
        var ports = TestPorts.Take(2);
        var directory = Directory.CreateTempSubdirectory("fproxy-etcd-").FullName;
        var server = new EtcdServer(directory, ports[0], ports[1], extraArgs ?? [], scheme, caFile, waitForClient);
        await server.RestartAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>A client connection to this server (the test's own, for writes and reads).</summary>
    public EtcdConnection Connection => _connection ??= new EtcdConnection(Options());

    /// <summary>
    /// Signs the test's own client and etcdctl in as this user from now on (once the test has
    /// turned authentication on); <see cref="Options"/> carry the user too.
    /// </summary>
    public void SignIn(string name, string password)
    {
        _user = (name, password);
        _connection?.Dispose();
        _connection = null;
    }

    /// <summary>Options pointing at this server, with <paramref name="prefix"/> (and the CA and user it was given).</summary>
    public EtcdOptions Options(string prefix = EtcdOptions.DefaultPrefix) => new()
    {
        Endpoints = [new Uri(Endpoint)],
        Prefix = prefix,
        CaFile = _caFile,
        Username = _user?.Name,
        Password = _user?.Password,
        KeepAliveInterval = TimeSpan.FromSeconds(2),
        KeepAliveTimeout = TimeSpan.FromSeconds(2),
        RequestTimeout = TimeSpan.FromSeconds(3),
    };

    /// <summary>Starts the server (again) on the same ports and data, and waits until it answers.</summary>
    public async Task RestartAsync()
    {
        if (IsRunning)
        {
            return;
        }

        // etcd runs under a shell that kills it once this process's end of its stdin closes: a
        // test host that dies (a crash, a kill) leaves no etcd behind.
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add("\"$0\" \"$@\" & child=$!; trap 'kill -9 $child' EXIT; read -r _; exit 0");
        info.ArgumentList.Add(Binary);
        var client = Endpoint;
        var peer = $"http://127.0.0.1:{_peerPort.ToString(CultureInfo.InvariantCulture)}";
        foreach (var arg in new[]
        {
            "--name", "test",
            "--data-dir", _dataDirectory,
            "--listen-client-urls", client,
            "--advertise-client-urls", client,
            "--listen-peer-urls", peer,
            "--initial-advertise-peer-urls", peer,
            "--initial-cluster", $"test={peer}",
            "--log-level", "warn",
            "--logger", "zap",
        }.Concat(_extraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            if (process.HasExited)
            {
                Assert.Fail($"etcd exited with {process.ExitCode} at start:{Environment.NewLine}{Output}");
            }

            if (FProxy.Tests.Host.HostProcess.Accepts(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, _clientPort)))
            {
                if (!_waitForClient)
                {
                    return;
                }

                try
                {
                    await RevisionAsync().ConfigureAwait(false);
                    return;
                }
                catch (Grpc.Core.RpcException) when (DateTime.UtcNow < deadline)
                {
                    // Listening but not serving yet.
                }
            }

            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"etcd did not answer on {Endpoint} within 30 s:{Environment.NewLine}{Output}");
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the server (SIGKILL: an outage, not a goodbye), keeping its data.</summary>
    public async Task StopAsync()
    {
        if (_process is { } process && !process.HasExited)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Puts a value; returns the revision of the write.</summary>
    public async Task<long> PutAsync(string key, string value)
    {
        var reply = await Connection.Client.PutAsync(
            new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) },
            await HeadersAsync().ConfigureAwait(false), Connection.RequestDeadline).ConfigureAwait(false);
        return reply.Header.Revision;
    }

    /// <summary>Writes every pair and deletes every key of <paramref name="deletes"/> in one transaction; returns its revision.</summary>
    public async Task<long> TransactAsync(IEnumerable<KeyValuePair<string, string>> puts, IEnumerable<string>? deletes = null)
    {
        var txn = new TxnRequest();
        foreach (var (key, value) in puts)
        {
            txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = ByteString.CopyFromUtf8(key), Value = ByteString.CopyFromUtf8(value) } });
        }

        foreach (var key in deletes ?? [])
        {
            txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) } });
        }

        var reply = await Connection.Client.TransactionAsync(txn, await HeadersAsync().ConfigureAwait(false), Connection.RequestDeadline).ConfigureAwait(false);
        return reply.Header.Revision;
    }

    /// <summary>Deletes a key; returns the revision of the delete.</summary>
    public async Task<long> DeleteAsync(string key)
    {
        var reply = await Connection.Client.DeleteAsync(
            new DeleteRangeRequest { Key = ByteString.CopyFromUtf8(key) }, await HeadersAsync().ConfigureAwait(false), Connection.RequestDeadline).ConfigureAwait(false);
        return reply.Header.Revision;
    }

    /// <summary>The value of a key, or null.</summary>
    public async Task<string?> GetAsync(string key)
    {
        var reply = await Connection.Client.GetAsync(
            new RangeRequest { Key = ByteString.CopyFromUtf8(key) }, await HeadersAsync().ConfigureAwait(false), Connection.RequestDeadline).ConfigureAwait(false);
        return reply.Kvs.Count == 0 ? null : reply.Kvs[0].Value.ToStringUtf8();
    }

    /// <summary>Every key and value under a prefix.</summary>
    public async Task<IReadOnlyDictionary<string, string>> GetPrefixAsync(string prefix)
    {
        var reply = await Connection.Client.GetAsync(
            new RangeRequest { Key = ByteString.CopyFromUtf8(prefix), RangeEnd = ByteString.CopyFromUtf8(EtcdLayout.RangeEnd(prefix)) },
            await HeadersAsync().ConfigureAwait(false), Connection.RequestDeadline).ConfigureAwait(false);
        return reply.Kvs.ToDictionary(static kv => kv.Key.ToStringUtf8(), static kv => kv.Value.ToStringUtf8());
    }

    /// <summary>The store's current revision.</summary>
    public async Task<long> RevisionAsync()
    {
        var reply = await Connection.Client.GetAsync(
            new RangeRequest { Key = ByteString.CopyFromUtf8("\0"), CountOnly = true }, await HeadersAsync().ConfigureAwait(false), Connection.RequestDeadline).ConfigureAwait(false);
        return reply.Header.Revision;
    }

    /// <summary>Compacts the history up to <paramref name="revision"/> (physically, so a watch from before it fails).</summary>
    public async Task CompactAsync(long revision) =>
        await Connection.Client.CompactAsync(
            new CompactionRequest { Revision = revision, Physical = true }, await HeadersAsync().ConfigureAwait(false), Connection.RequestDeadline).ConfigureAwait(false);

    /// <summary>
    /// Runs etcdctl against this server (trusting its CA and signed in as its user, when it has
    /// them); returns its output, failing the test on a non-zero exit.
    /// </summary>
    public async Task<string> EtcdctlAsync(params string[] args)
    {
        var info = new ProcessStartInfo(File.Exists("/usr/bin/etcdctl") ? "/usr/bin/etcdctl" : "etcdctl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.Environment["ETCDCTL_API"] = "3";
        info.ArgumentList.Add("--endpoints=" + Endpoint);
        if (_caFile is not null)
        {
            info.ArgumentList.Add("--cacert=" + _caFile);
        }

        if (_user is { } user)
        {
            info.ArgumentList.Add($"--user={user.Name}:{user.Password}");
        }

        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = await process.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
        var error = await process.StandardError.ReadToEndAsync().ConfigureAwait(false);
        await process.WaitForExitAsync().ConfigureAwait(false);
        Assert.That(process.ExitCode, Is.Zero, $"etcdctl {string.Join(' ', args)}: {error}");
        return output;
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _process?.Dispose();
        _connection?.Dispose();
        try
        {
            Directory.Delete(_dataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held; the temp directory is cleaned by the system.
        }
    }

    /// <summary>The test client's auth token, when it has signed in.</summary>
    private ValueTask<Metadata?> HeadersAsync() => Connection.HeadersAsync(CancellationToken.None);

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}

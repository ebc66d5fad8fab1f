using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>
/// The built FProxy.Host (copied next to the test assembly through the project reference) run as a
/// child process: <c>dotnet FProxy.Host.dll</c> with a private temp directory for its config file, a
/// clean FPROXY_* environment, and stdout/stderr captured line by line. Dispose kills it if it still
/// runs and deletes the directory.
/// </summary>
internal sealed class HostProcess : IDisposable
{
    public const int SigTerm = 15;
    public const int SigInt = 2;
    public const int SigHup = 1;

    private const int RlimitNoFile = 7;
    private const int ScClkTck = 2;

    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly List<string> _errorLines = [];
    private bool _disposed;

    private HostProcess(Process process, string directory, string configPath, string? adminUrl)
    {
        _process = process;
        Directory = directory;
        ConfigPath = configPath;
        AdminUrl = adminUrl;
    }

    /// <summary>Where the host's dll is: the test output directory.</summary>
    public static string HostDll => Path.Combine(AppContext.BaseDirectory, "FProxy.Host.dll");

    /// <summary>The temp directory holding the config file (the host watches it: one inotify instance).</summary>
    public string Directory { get; }

    /// <summary>The config file FPROXY_CONFIG_PATH names.</summary>
    public string ConfigPath { get; }

    /// <summary>The admin endpoint's URL (FPROXY_ADMIN_URL), or null when it is off.</summary>
    public string? AdminUrl { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Every line so far, stdout and stderr interleaved in arrival order.</summary>
    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>The stderr lines so far.</summary>
    public IReadOnlyList<string> ErrorLines
    {
        get
        {
            lock (_lines)
            {
                return [.. _errorLines];
            }
        }
    }

    /// <summary>Everything captured, for assertion messages.</summary>
    public string Output => string.Join(Environment.NewLine, Lines);

    /// <summary>
    /// Starts the host. <paramref name="configJson"/> is written to <see cref="ConfigPath"/> first (null:
    /// no file). <paramref name="environment"/> adds or (with a null value) removes variables; every
    /// inherited FPROXY_* variable is removed, and FPROXY_ADMIN_URL is "none" unless given. <paramref name="fdLimit"/> runs it under
    /// <c>bash -c 'ulimit -n N; exec dotnet ...'</c> (exec keeps the pid). <paramref name="wrapper"/>
    /// is a command put before all that, which must exec what follows it so that <see cref="Pid"/>
    /// stays the host's (<c>nsenter -t PID -n</c> does: it forks only to enter a pid namespace).
    /// </summary>
    public static HostProcess Start(
        string? configJson,
        IReadOnlyDictionary<string, string?>? environment = null,
        string[]? args = null,
        int? fdLimit = null,
        string[]? wrapper = null)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("fproxy-host-").FullName;
        var configPath = Path.Combine(directory, "config.json");
        if (configJson is not null)
        {
            File.WriteAllText(configPath, configJson);
        }

        var dotnet = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var info = new ProcessStartInfo
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        // A shell that starts the test run in the background (`dotnet test &` in a script) leaves
        // SIGINT and SIGQUIT ignored in everything it starts, and a process keeps a signal that was
        // ignored at its start ignored: the host would never see the signals these tests send. A
        // host started by hand gets them at their defaults, so give the host that.
        if (wrapper is [var command, .. var wrapperArgs])
        {
            info.FileName = command;
            foreach (var arg in wrapperArgs)
            {
                info.ArgumentList.Add(arg);
            }

            info.ArgumentList.Add("env");
        }
        else
        {
            info.FileName = "env";
        }

        info.ArgumentList.Add("--default-signal=INT,QUIT,HUP,TERM");
        if (fdLimit is { } limit)
        {
            info.ArgumentList.Add("bash");
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add($"ulimit -n {limit.ToString(CultureInfo.InvariantCulture)} && exec \"$0\" \"$@\"");
        }

        info.ArgumentList.Add(dotnet);

        info.ArgumentList.Add(HostDll);
        foreach (var arg in args ?? [])
        {
            info.ArgumentList.Add(arg);
        }

        foreach (var key in info.Environment.Keys.Where(static k => k.StartsWith("FPROXY_", StringComparison.Ordinal)).ToArray())
        {
            info.Environment.Remove(key);
        }

        info.Environment["FPROXY_CONFIG_PATH"] = configPath;

        // Every host would otherwise listen on the default admin port 9901, and collide.
        info.Environment["FPROXY_ADMIN_URL"] = "none";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        var process = new Process { StartInfo = info };
        var adminUrl = info.Environment["FPROXY_ADMIN_URL"];
        var host = new HostProcess(process, directory, configPath, adminUrl == "none" ? null : adminUrl);
        process.OutputDataReceived += (_, e) => host.Add(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => host.Add(e.Data, error: true);
        try
        {
            process.Start();
        }
        catch
        {
            host.Dispose();
            throw;
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return host;
    }

    /// <summary>A free loopback admin URL for FPROXY_ADMIN_URL (hosts default to "none" here).</summary>
    public static string FreeAdminUrl() => $"http://127.0.0.1:{TestPorts.Take(1)[0].ToString(CultureInfo.InvariantCulture)}";

    /// <summary>An environment for <see cref="Start"/> with the admin endpoint on a free loopback port, plus <paramref name="more"/>.</summary>
    public static Dictionary<string, string?> WithAdmin(Dictionary<string, string?>? more = null)
    {
        var environment = new Dictionary<string, string?>(more ?? []) { ["FPROXY_ADMIN_URL"] = FreeAdminUrl() };
        return environment;
    }

    /// <summary>Config JSON for one app, in the seed's shape.</summary>
    public static string AppJson(string name, IEnumerable<int> ports, IEnumerable<string> targets, string? bind = "127.0.0.1", string connectTimeout = "2s", string drainTimeout = "5s")
    {
        var portList = string.Join(",", ports.Select(static p => p.ToString(CultureInfo.InvariantCulture)));
        var targetList = string.Join(",", targets.Select(static t => $"\"{t}\""));
        var bindPart = bind is null ? string.Empty : $"\"Bind\":\"{bind}\",";
        return $"{{\"Name\":\"{name}\",\"Ports\":[{portList}],\"Targets\":[{targetList}],{bindPart}\"ConnectTimeout\":\"{connectTimeout}\",\"DrainTimeout\":\"{drainTimeout}\"}}";
    }

    /// <summary>A whole config file from app objects made by <see cref="AppJson"/>.</summary>
    public static string ConfigJson(params string[] apps) => $"{{\"Apps\":[{string.Join(",", apps)}]}}";

    /// <summary>Lines containing <paramref name="text"/> (ordinal).</summary>
    public int CountLines(string text) => Lines.Count(l => l.Contains(text, StringComparison.Ordinal));

    /// <summary>Lines carrying log EventId <paramref name="eventId"/> (the console format writes "Category[Id]").</summary>
    public int CountEvent(int eventId) => CountLines($"[{eventId.ToString(CultureInfo.InvariantCulture)}]");

    /// <summary>Waits until a line contains <paramref name="text"/>; fails with the output so far if it does not, or if the host exits.</summary>
    public Task WaitForLineAsync(string text, TimeSpan timeout) =>
        WaitForAsync(() => CountLines(text) > 0, timeout, $"a line containing \"{text}\"");

    public Task WaitForEventAsync(int eventId, TimeSpan timeout, int count = 1) =>
        WaitForAsync(() => CountEvent(eventId) >= count, timeout, $"{count} log line(s) with EventId {eventId}");

    /// <summary>Polls <paramref name="condition"/> (no fixed sleeps); fails early if the host exits.</summary>
    public async Task WaitForAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = Stopwatch.StartNew();
        var delay = 5;
        while (!condition())
        {
            if (_process.HasExited)
            {
                await _process.WaitForExitAsync();
                if (condition())
                {
                    return;
                }

                Assert.Fail($"the host exited ({_process.ExitCode}) while waiting for {what}; output:{Environment.NewLine}{Output}");
            }

            if (deadline.Elapsed > timeout)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for {what}; output:{Environment.NewLine}{Output}");
            }

            await Task.Delay(delay);
            delay = Math.Min(delay * 2, 50);
        }
    }

    /// <summary>Waits until a connect to <paramref name="port"/> succeeds (the connection is closed at once).</summary>
    public Task WaitForPortAsync(int port, TimeSpan timeout, IPAddress? address = null) =>
        WaitForAsync(() => Accepts(new IPEndPoint(address ?? IPAddress.Loopback, port)), timeout, $"port {port} to accept");

    /// <summary>Whether something accepts on <paramref name="endPoint"/> now.</summary>
    public static bool Accepts(IPEndPoint endPoint)
    {
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.Connect(endPoint);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Sends a signal (libc kill).</summary>
    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Waits for the exit and returns the exit code; fails with the output if it takes longer than <paramref name="timeout"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"the host did not exit within {timeout.TotalSeconds} s; output:{Environment.NewLine}{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>SIGTERM, then <see cref="WaitForExitAsync"/>.</summary>
    public Task<int> StopAsync(TimeSpan timeout)
    {
        Signal(SigTerm);
        return WaitForExitAsync(timeout);
    }

    /// <summary>Replaces the config file atomically: writes a temp file in the same directory, then renames it over.</summary>
    public void RewriteConfig(string json)
    {
        var temp = Path.Combine(Directory, $".config.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temp, json);
        File.Move(temp, ConfigPath, overwrite: true);
    }

    /// <summary>CPU time (user + system) the host has used so far, from /proc/PID/stat.</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");

        // "pid (comm) state ppid ...": comm may hold spaces, so split after its closing parenthesis.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds((double)ticks / ClockTicksPerSecond);
    }

    /// <summary>The host's open descriptors now.</summary>
    public int[] OpenFileDescriptors() =>
        [.. System.IO.Directory.GetFiles($"/proc/{_process.Id}/fd").Select(static f => int.Parse(Path.GetFileName(f), CultureInfo.InvariantCulture)).Order()];

    /// <summary>How many of the host's open descriptors are sockets (listeners and connections).</summary>
    public int OpenSocketCount() =>
        System.IO.Directory.GetFiles($"/proc/{_process.Id}/fd").Count(static f =>
        {
            try
            {
                return new FileInfo(f).LinkTarget?.StartsWith("socket:", StringComparison.Ordinal) == true;
            }
            catch (IOException)
            {
                return false; // Closed while listing.
            }
        });

    /// <summary>
    /// The TCP ports the host listens on now: its socket descriptors matched by inode against the
    /// LISTEN entries of /proc/PID/net/tcp and tcp6.
    /// </summary>
    public int[] ListeningPorts()
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in System.IO.Directory.GetFiles($"/proc/{_process.Id}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                {
                    inodes.Add(target["socket:[".Length..^1]);
                }
            }
            catch (IOException)
            {
                // Closed while listing.
            }
        }

        var ports = new SortedSet<int>();
        foreach (var table in new[] { "tcp", "tcp6" })
        {
            // "sl local_address rem_address st ... inode": st 0A is LISTEN, the port is hex after the colon.
            foreach (var line in File.ReadLines($"/proc/{_process.Id}/net/{table}").Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 9 && fields[3] == "0A" && inodes.Contains(fields[9]))
                {
                    ports.Add(int.Parse(fields[1][(fields[1].IndexOf(':', StringComparison.Ordinal) + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                }
            }
        }

        return [.. ports];
    }

    /// <summary>Lowers (or raises up to the hard limit) the host's RLIMIT_NOFILE soft limit, with prlimit(2).</summary>
    public void SetOpenFileLimit(int soft)
    {
        if (PrLimit(_process.Id, RlimitNoFile, IntPtr.Zero, out var old) != 0)
        {
            throw new InvalidOperationException($"prlimit read failed: errno {Marshal.GetLastPInvokeError()}");
        }

        var limit = new RLimit { Current = (ulong)soft, Maximum = old.Maximum };
        if (PrLimitSet(_process.Id, RlimitNoFile, ref limit, IntPtr.Zero) != 0)
        {
            throw new InvalidOperationException($"prlimit({soft}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static long ClockTicksPerSecond => SysConf(ScClkTck) is var t and > 0 ? t : 100;

    private void Add(string? line, bool error)
    {
        if (line is null)
        {
            return;
        }

        lock (_lines)
        {
            _lines.Add(line);
            if (error)
            {
                _errorLines.Add(line);
            }
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    [DllImport("libc", EntryPoint = "sysconf")]
    private static extern long SysConf(int name);

    [DllImport("libc", EntryPoint = "prlimit", SetLastError = true)]
    private static extern int PrLimit(int pid, int resource, IntPtr newLimit, out RLimit oldLimit);

    [DllImport("libc", EntryPoint = "prlimit", SetLastError = true)]
    private static extern int PrLimitSet(int pid, int resource, ref RLimit newLimit, IntPtr oldLimit);

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A network namespace of a test's own, so it can set per-namespace sysctls (net.ipv4.*) and use
/// fixed ports without touching the machine: held open by <c>unshare -n sleep</c>, loopback up.
/// Child processes run inside through <see cref="Wrapper"/> (nsenter); sockets of the test process
/// are made inside by <see cref="CreateSocket"/>. Needs root (CAP_SYS_ADMIN): without it the test
/// fails saying so, never skips. Dispose ends the holder; the namespace goes when the last process
/// and socket in it do.
/// </summary>
/// <remarks>
/// A socket belongs to the namespace of the thread that made it, and keeps it wherever it is used
/// afterwards. So one dedicated thread enters the namespace (setns) and does nothing but make
/// sockets: a thread it started would be inside too, so it never touches the thread pool, timers or
/// tasks, and callers wait for it on an event rather than on a task continuation.
/// </remarks>
internal sealed class NetworkNamespace : IDisposable
{
    private const int CloneNewNet = 0x40000000; // <linux/sched.h>
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _holder;
    private readonly BlockingCollection<SocketRequest> _requests = [];
    private readonly Thread _inside;
    private readonly ManualResetEventSlim _entered = new();
    private string? _enterFailure;
    private bool _disposed;

    private NetworkNamespace(Process holder, string link)
    {
        _holder = holder;
        Link = link;
        _inside = new Thread(Serve) { IsBackground = true, Name = "netns sockets" };
    }

    /// <summary>The holder's pid: <c>nsenter -t Pid -n</c> enters the namespace.</summary>
    public int Pid => _holder.Id;

    /// <summary>The namespace's identity as /proc shows it ("net:[inode]").</summary>
    public string Link { get; }

    /// <summary>A command prefix that runs what follows inside the namespace (nsenter execs it: same pid).</summary>
    public string[] Wrapper => ["nsenter", "-t", Pid.ToString(CultureInfo.InvariantCulture), "-n"];

    /// <summary>Makes the namespace, brings loopback up, and sets each of <paramref name="sysctls"/> inside it.</summary>
    public static NetworkNamespace Create(params (string Name, string Value)[] sysctls)
    {
        var info = new ProcessStartInfo("unshare")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])["-n", "sleep", "600"])
        {
            info.ArgumentList.Add(arg);
        }

        Process holder;
        try
        {
            holder = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"cannot make a network namespace: unshare could not be started ({e.Message}); the test needs util-linux's unshare and nsenter, and root");
            throw;
        }

        // unshare execs sleep once it has left the test's namespace: the pid is the holder's from
        // the start, its namespace changes a moment later.
        var own = NamespaceOf("self");
        var deadline = Stopwatch.StartNew();
        string? link = null;
        while (deadline.Elapsed < CommandTimeout)
        {
            if (holder.HasExited)
            {
                var error = holder.StandardError.ReadToEnd().Trim();
                var exitCode = holder.ExitCode;
                holder.Dispose();
                Assert.Fail($"cannot make a network namespace: `unshare -n` exited {exitCode}: {error} (the test needs root, or CAP_SYS_ADMIN, to make one)");
            }

            link = TryNamespaceOf(holder.Id.ToString(CultureInfo.InvariantCulture));
            if (link is not null && link != own)
            {
                break;
            }

            link = null;
            Thread.Sleep(5);
        }

        if (link is null)
        {
            holder.Kill();
            holder.Dispose();
            Assert.Fail($"cannot make a network namespace: `unshare -n` did not enter one within {CommandTimeout.TotalSeconds} s");
        }

        var ns = new NetworkNamespace(holder, link!);
        try
        {
            ns.Run("ip", "link", "set", "lo", "up");
            foreach (var (name, value) in sysctls)
            {
                ns.Run("sysctl", "-w", $"{name}={value}");
            }

            ns._inside.Start();
            if (!ns._entered.Wait(CommandTimeout))
            {
                Assert.Fail($"the socket thread did not enter the network namespace within {CommandTimeout.TotalSeconds} s");
            }

            if (ns._enterFailure is { } failure)
            {
                Assert.Fail($"cannot enter the network namespace from the test process: {failure}");
            }
        }
        catch
        {
            ns.Dispose();
            throw;
        }

        return ns;
    }

    /// <summary>Runs a command inside the namespace and waits for it; fails the test with its output if it fails.</summary>
    public string Run(params string[] command)
    {
        var info = new ProcessStartInfo("nsenter")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in (string[])[.. Wrapper[1..], .. command])
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandTimeout))
        {
            process.Kill();
            Assert.Fail($"`{string.Join(' ', command)}` in the namespace did not end within {CommandTimeout.TotalSeconds} s");
        }

        if (process.ExitCode != 0)
        {
            Assert.Fail($"`{string.Join(' ', command)}` in the namespace exited {process.ExitCode}: {error.Result.Trim()}");
        }

        return output.Result;
    }

    /// <summary>A new, unbound TCP socket that lives in the namespace (bind and connect it from any thread).</summary>
    public Socket CreateSocket(AddressFamily family = AddressFamily.InterNetwork)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var request = new SocketRequest(family);
        _requests.Add(request);
        if (!request.Done.Wait(CommandTimeout))
        {
            throw new TimeoutException("the namespace's socket thread did not answer");
        }

        return request.Socket ?? throw new InvalidOperationException("making a socket in the namespace failed", request.Error);
    }

    /// <summary>
    /// Threads of this process, other than the socket thread, that are inside the namespace (their
    /// names): a thread started from inside would make sockets there that were meant for outside.
    /// </summary>
    public IReadOnlyList<string> OtherThreadsInside()
    {
        var names = new List<string>();
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            var tid = Path.GetFileName(task);
            if (TryNamespaceOf($"self/task/{tid}") == Link && TryRead($"{task}/comm") is { } name && name != "netns sockets")
            {
                names.Add($"{name} ({tid})");
            }
        }

        return names;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _requests.CompleteAdding();
        if (_inside.IsAlive)
        {
            _inside.Join(CommandTimeout);
        }

        try
        {
            if (!_holder.HasExited)
            {
                _holder.Kill();
                _holder.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _holder.Dispose();
        _requests.Dispose();
        _entered.Dispose();
    }

    private void Serve()
    {
        try
        {
            using var handle = File.OpenHandle($"/proc/{Pid.ToString(CultureInfo.InvariantCulture)}/ns/net");
            if (SetNs(handle.DangerousGetHandle().ToInt32(), CloneNewNet) != 0)
            {
                _enterFailure = $"setns failed: errno {Marshal.GetLastPInvokeError()} (needs CAP_SYS_ADMIN)";
                return;
            }
        }
        catch (IOException e)
        {
            _enterFailure = e.Message;
            return;
        }
        finally
        {
            _entered.Set();
        }

        foreach (var request in _requests.GetConsumingEnumerable())
        {
            try
            {
                request.Socket = new Socket(request.Family, SocketType.Stream, ProtocolType.Tcp);
            }
            catch (SocketException e)
            {
                request.Error = e;
            }

            request.Done.Set();
        }
    }

    private static string NamespaceOf(string process) =>
        TryNamespaceOf(process) ?? throw new InvalidOperationException($"/proc/{process}/ns/net cannot be read");

    private static string? TryNamespaceOf(string process)
    {
        try
        {
            return new FileInfo($"/proc/{process}/ns/net").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null;
        }
    }

    [DllImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static extern int SetNs(int fd, int nstype);

    private sealed class SocketRequest(AddressFamily family) : IDisposable
    {
        public AddressFamily Family { get; } = family;

        public ManualResetEventSlim Done { get; } = new();

        public Socket? Socket { get; set; }

        public SocketException? Error { get; set; }

        public void Dispose() => Done.Dispose();
    }
}

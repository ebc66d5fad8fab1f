using System.Diagnostics;
using System.Net;
using System.Text;
using FProxy.Tests.Host;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A server program (nginx, HAProxy, an ftest echo backend) run in the foreground under a small
/// shell, for tests that talk to real peers. The shell ties the server to the test host: when this
/// process's end of its stdin closes (a stop, or the test host dying by a crash or a kill) it
/// sends the server SIGTERM, then SIGKILL if it is still there after 5 s. It also exits as soon as
/// the server does, with the server's status, so a server that refuses its config is seen at once.
/// </summary>
internal sealed class ExternalServerProcess : IAsyncDisposable
{
    // $0 is the server, $@ its arguments. The server is started first: an asynchronous command in
    // a shell without job control reads /dev/null, so it never holds the tie. The watcher reads
    // the tie through fd 3 (it would read /dev/null too) and writes nowhere, so it holds none of
    // the output pipes that Process waits on. The shell waits for the server, ends the watcher
    // (so it does not linger to signal, much later, a pid the system may have given to another
    // process) and exits with the server's status.
    private const string Tie =
        "\"$0\" \"$@\" & server=$!; exec 3<&0; "
        + "{ read -r _ <&3; kill -TERM $server 2>/dev/null; i=0; "
        + "while kill -0 $server 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done; "
        + "kill -9 $server 2>/dev/null; } >/dev/null 2>&1 & "
        + "watcher=$!; exec 3<&-; wait $server; status=$?; kill $watcher 2>/dev/null; exit $status";

    private readonly Process _process;
    private readonly string _name;
    private readonly StringBuilder _output = new();

    private ExternalServerProcess(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    /// <summary>Whether the server still runs.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>The server's exit status (128 + the signal when a signal ended it), once it has exited.</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>What the server printed on stdout and stderr, for failure messages.</summary>
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

    /// <summary>Starts <paramref name="binary"/> with <paramref name="args"/> in <paramref name="workingDirectory"/>.</summary>
    /// <param name="name">How failure messages call the server ("nginx").</param>
    /// <param name="binary">The server's program.</param>
    /// <param name="args">Its arguments, which keep it in the foreground.</param>
    /// <param name="workingDirectory">The test's temporary directory for it.</param>
    public static ExternalServerProcess Start(string name, string binary, IEnumerable<string> args, string workingDirectory)
    {
        var info = new ProcessStartInfo("/bin/sh")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(Tie);
        info.ArgumentList.Add(binary);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        var server = new ExternalServerProcess(new Process { StartInfo = info }, name);
        server._process.OutputDataReceived += (_, e) => server.Append(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        server._process.Start();
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        return server;
    }

    /// <summary>
    /// Waits until every one of <paramref name="endPoints"/> accepts a connection; fails with the
    /// server's output if it exits first or takes longer than <paramref name="timeout"/>.
    /// </summary>
    /// <param name="endPoints">Every address the server listens on.</param>
    /// <param name="timeout">How long starting may take.</param>
    /// <param name="diagnose">
    /// Reads the output of a server that exited at start and returns what the failure should say
    /// first (how to install what it lacks), or null.
    /// </param>
    public async Task WaitUntilAcceptingAsync(IReadOnlyList<IPEndPoint> endPoints, TimeSpan timeout, Func<string, string?>? diagnose = null)
    {
        var deadline = Stopwatch.StartNew();
        var delay = 5;
        foreach (var endPoint in endPoints)
        {
            while (!HostProcess.Accepts(endPoint))
            {
                if (_process.HasExited)
                {
                    await _process.WaitForExitAsync();
                    var hint = diagnose?.Invoke(Output) is { } first ? first + Environment.NewLine : string.Empty;
                    Assert.Fail($"{hint}{_name} exited with {_process.ExitCode} at start:{Environment.NewLine}{Output}");
                }

                if (deadline.Elapsed > timeout)
                {
                    Assert.Fail($"{_name} did not accept on {endPoint} within {timeout.TotalSeconds} s:{Environment.NewLine}{Output}");
                }

                await Task.Delay(delay);
                delay = Math.Min(delay * 2, 50);
            }
        }
    }

    /// <summary>
    /// Stops the server with SIGTERM (through the tie) and waits for it to exit; returns its exit
    /// status. Past <paramref name="timeout"/> the shell and the server are killed, and the test fails.
    /// </summary>
    public async Task<int> StopAsync(TimeSpan timeout)
    {
        if (!await TryStopAsync(timeout))
        {
            Assert.Fail($"{_name} did not stop within {timeout.TotalSeconds} s of SIGTERM:{Environment.NewLine}{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>Stops the server as <see cref="StopAsync"/> does, without judging how.</summary>
    public async ValueTask DisposeAsync()
    {
        await TryStopAsync(TimeSpan.FromSeconds(10));
        _process.Dispose();
    }

    /// <summary>SIGTERM through the tie, then SIGKILL to the shell and the server past the timeout; whether SIGTERM was enough.</summary>
    private async Task<bool> TryStopAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            await _process.WaitForExitAsync();
            return true;
        }

        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The shell has just exited: nothing reads the tie any more.
        }

        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(wait.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            return false;
        }
    }

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

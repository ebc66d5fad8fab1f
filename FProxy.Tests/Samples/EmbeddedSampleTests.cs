using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime.InteropServices;
using FProxy.Tests.Host;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Samples;

/// <summary>
/// samples/EmbeddedProxy as a user would build it: against the packed FProxy.Core package (not the
/// project), with a custom strategy and a custom config source, serving traffic.
/// </summary>
[NonParallelizable] // It packs, restores and builds: two at once would only slow each other.
public sealed class EmbeddedSampleTests
{
    [Test]
    [CancelAfter(240_000)]
    public async Task EmbeddedProxy_BuiltFromThePackedPackage_ServesWithItsStrategyAndSource(CancellationToken ct)
    {
        var root = RepositoryFiles.Root;
        var work = Directory.CreateTempSubdirectory("fproxy-sample-").FullName;
        var version = $"0.1.0-sampletest.{DateTime.UtcNow:yyyyMMddHHmmssfff}";
        var cached = Path.Combine(NuGetPackagesFolder(), "fproxy.core", version);
        try
        {
            var feed = Path.Combine(work, "feed");
            var output = Path.Combine(work, "out");
            await RunAsync(root, ct, "pack", "FProxy.Core", "-c", Configuration(), "--no-build", "-o", feed, $"-p:PackageVersion={version}");
            Assert.That(File.Exists(Path.Combine(feed, $"FProxy.Core.{version}.nupkg")), "the package");
            Assert.That(File.Exists(Path.Combine(feed, $"FProxy.Core.{version}.snupkg")), "its symbols");
            await RunAsync(root, ct, "build", Path.Combine("samples", "EmbeddedProxy"), "-c", "Release", "-o", output,
                $"-p:FProxyVersion={version}", $"-p:RestoreAdditionalProjectSources={feed}");
            Assert.That(File.Exists(Path.Combine(output, "FProxy.Core.dll")), "FProxy.Core came from the package");

            await using var first = new EchoServer(greeting: "A\n");
            await using var second = new EchoServer(greeting: "B\n");
            var port = TestConfigs.FreePorts(1)[0];
            using var sample = Start(output, port, first.Target, second.Target);
            await Wait.UntilAsync(() => HostProcess.Accepts(new IPEndPoint(IPAddress.Loopback, port)) || sample.Process.HasExited, TimeSpan.FromSeconds(30), "the sample to listen");
            Assert.That(sample.Process.HasExited, Is.False, sample.Output);

            for (var i = 0; i < 3; i++)
            {
                Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("A"), "the sample's PreferFirst strategy");
            }

            await first.DisposeAsync();
            Assert.That(await Sockets.GreetingAsync(port, ct), Is.EqualTo("B"), "the second target when the first is down");

            Assert.That(Kill(sample.Process.Id, 15), Is.Zero);
            await sample.Process.WaitForExitAsync(ct).WaitAsync(TimeSpan.FromSeconds(20), ct);
            Assert.That(sample.Process.ExitCode, Is.Zero, sample.Output);
            Assert.That(sample.Output, Does.Contain("config applied").And.Contain("shutdown complete"));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
            if (Directory.Exists(cached))
            {
                Directory.Delete(cached, recursive: true); // Each run packs its own version: do not pile them up.
            }
        }
    }

    private static SampleProcess Start(string output, int port, string first, string second)
    {
        var info = new ProcessStartInfo("env")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = output,
        };
        foreach (var arg in new[]
        {
            "--default-signal=INT,TERM", Dotnet(), Path.Combine(output, "EmbeddedProxy.dll"),
            $"--Sample:Port={port.ToString(CultureInfo.InvariantCulture)}", $"--Sample:Targets:0={first}", $"--Sample:Targets:1={second}",
            $"--FProxy:Transport={TestTransport.Kind}",
        })
        {
            info.ArgumentList.Add(arg);
        }

        return new SampleProcess(Process.Start(info)!);
    }

    private static async Task RunAsync(string directory, CancellationToken ct, params string[] args)
    {
        var info = new ProcessStartInfo(Dotnet())
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        Assert.That(process.ExitCode, Is.Zero, $"dotnet {string.Join(' ', args)}:{Environment.NewLine}{await stdout}{await stderr}");
    }

    private static string Dotnet() =>
        Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";

    /// <summary>The configuration these tests were built in (bin/Release or bin/Debug): FProxy.Core is built in it too.</summary>
    private static string Configuration() =>
        TestContext.CurrentContext.TestDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string NuGetPackagesFolder() =>
        Environment.GetEnvironmentVariable("NUGET_PACKAGES")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    /// <summary>The sample's process, its output collected as it comes.</summary>
    private sealed class SampleProcess : IDisposable
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

        public SampleProcess(Process process)
        {
            Process = process;
            process.OutputDataReceived += (_, e) => Add(e.Data);
            process.ErrorDataReceived += (_, e) => Add(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output => string.Join(Environment.NewLine, _lines);

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
            }

            Process.Dispose();
        }

        private void Add(string? line)
        {
            if (line is not null)
            {
                _lines.Enqueue(line);
            }
        }
    }
}

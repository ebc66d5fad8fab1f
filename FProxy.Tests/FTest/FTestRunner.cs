extern alias FTestTool;

using System.Net;
using System.Net.Sockets;
using FTestTool::FProxy.FTest.Cli;
using FTestTool::FProxy.FTest.Net;

namespace FProxy.Tests.FTest;

/// <summary>What an in-process ftest run printed and returned.</summary>
internal sealed record FTestRun(int ExitCode, string Out, string Error)
{
    /// <summary>Asserts the run failed with exactly one "ftest: ..." line containing <paramref name="text"/>, and no stack trace.</summary>
    public void AssertOneLineError(int exitCode, string text)
    {
        Assert.Multiple(() =>
        {
            Assert.That(ExitCode, Is.EqualTo(exitCode), $"exit code; stderr: {Error}");
            Assert.That(Error.TrimEnd().Split('\n'), Has.Length.EqualTo(1), $"one error line: {Error}");
            Assert.That(Error, Does.StartWith("ftest: ").And.Contain(text));
            Assert.That(Error + Out, Does.Not.Contain("   at "), "no stack trace");
        });
    }
}

/// <summary>Runs ftest in-process, as its Program would, over string writers (no terminal: plain text).</summary>
internal static class FTestRunner
{
    public static Task<FTestRun> RunAsync(CancellationToken ct, params string[] args) => RunAsync(null, ct, args);

    public static async Task<FTestRun> RunAsync(IHostResolver? resolver, CancellationToken ct, params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = await FTestCli.RunAsync(args, ToolConsole.Plain(output, error, resolver), ct);
        TestContext.Out.WriteLine($"ftest {string.Join(' ', args)} -> {exitCode}\n{output}{error}");
        return new FTestRun(exitCode, output.ToString(), error.ToString());
    }

    public static string Loopback(int port) => $"127.0.0.1:{port}";

    /// <summary>A listener that completes connects (in the kernel's backlog) but never answers: every read times out.</summary>
    public static Socket SilentListener()
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(64);
        return listener;
    }

    public static int Port(Socket listener) => ((IPEndPoint)listener.LocalEndPoint!).Port;
}

/// <summary>A resolver that knows no names, so "unreachable host" needs no real nameserver.</summary>
internal sealed class NoNamesResolver : IHostResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => throw new SocketException((int)SocketError.HostNotFound);
}

/// <summary>A resolver with one name for loopback, so host:port forms are tested without a nameserver.</summary>
internal sealed class LoopbackNameResolver(string name) : IHostResolver
{
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) =>
        host == name ? Task.FromResult(new[] { IPAddress.Loopback }) : throw new SocketException((int)SocketError.HostNotFound);
}

extern alias FTestTool;

using FTestTool::FProxy.FTest.Cli;

namespace FProxy.Tests.FTest;

/// <summary><c>--proxy-protocol</c> and <c>--source</c>, parsed the same way by every command that connects.</summary>
[CancelAfter(20_000)]
public sealed class ProxyProtocolOptionTests
{
    private static readonly string[][] Commands =
    [
        ["ping", "127.0.0.1:1"],
        ["balancer", "127.0.0.1:1", "-d", "a", "-e", "a"],
        ["simulate", "127.0.0.1:1"],
        ["watch", "127.0.0.1:1"],
    ];

    [TestCase("v1")]
    [TestCase("v2")]
    [TestCase("V2")]
    [TestCase("v1", "--source", "192.0.2.1:5000")]
    [TestCase("v2", "--source", "[2001:db8::1]:65535")]
    [TestCase("v2", "--source", "[::1]:1")]
    public void GoodValues_ParseOnEveryCommand(string version, params string[] source)
    {
        foreach (var command in Commands)
        {
            var parsed = FTestCli.Build(ToolConsole.Plain(TextWriter.Null, TextWriter.Null)).Parse([.. command, "--proxy-protocol", version, .. source]);

            Assert.That(parsed.Errors, Is.Empty, string.Join(' ', command));
        }
    }

    [Test]
    public async Task SourceWithoutProxyProtocol_UsageErrorExit2NamingBoth(CancellationToken ct)
    {
        foreach (var command in Commands)
        {
            var run = await FTestRunner.RunAsync(ct, [.. command, "--source", "192.0.2.1:5000"]);

            run.AssertOneLineError(2, "--source needs --proxy-protocol");
            Assert.That(run.Error, Does.Contain($"see ftest {command[0]} --help"));
        }
    }

    [TestCase("--proxy-protocol|v3", "invalid --proxy-protocol \"v3\": expected v1 or v2")]
    [TestCase("--proxy-protocol|1", "invalid --proxy-protocol \"1\"")]
    [TestCase("--proxy-protocol|", "invalid --proxy-protocol \"\"")]
    [TestCase("--proxy-protocol|v1|--source|192.0.2.1", "invalid --source \"192.0.2.1\": expected an IP address and a port 1-65535")]
    [TestCase("--proxy-protocol|v1|--source|192.0.2.1:65536", "invalid --source \"192.0.2.1:65536\"")]
    [TestCase("--proxy-protocol|v1|--source|192.0.2.1:0", "invalid --source \"192.0.2.1:0\"")]
    [TestCase("--proxy-protocol|v1|--source|::1:5000", "invalid --source \"::1:5000\"")]
    [TestCase("--proxy-protocol|v1|--source|localhost:5000", "invalid --source \"localhost:5000\"")]
    [TestCase("--proxy-protocol|v2|--source|[::1]", "invalid --source \"[::1]\"")]
    public async Task BadValues_OneLineErrorNamingTheValueExit1(string options, string problem, CancellationToken ct)
    {
        foreach (var command in Commands)
        {
            var run = await FTestRunner.RunAsync(ct, [.. command, .. options.Split('|')]);

            // Like every value ftest's own parsers reject (a bad --timeout or address): exit 1.
            run.AssertOneLineError(1, problem);
        }
    }

    [Test]
    public async Task Help_ListsBothOptions(CancellationToken ct)
    {
        foreach (var command in Commands)
        {
            var run = await FTestRunner.RunAsync(ct, command[0], "--help");

            Assert.That(run.Out, Does.Contain("--proxy-protocol <v1|v2>").And.Contain("--source <IP:PORT>"), command[0]);
        }
    }
}

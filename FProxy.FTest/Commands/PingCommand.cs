using System.CommandLine;
using FProxy.FTest.Cli;
using FProxy.FTest.Net;

namespace FProxy.FTest.Commands;

/// <summary><c>ftest ping</c>: one connection, one round trip, its reply and timings.</summary>
internal sealed class PingCommand(ToolConsole console)
{
    public static Command Build(ToolConsole console)
    {
        var address = Options.Address();
        var data = Options.Data("ping");
        var timeout = Options.Duration("--timeout", "Budget for the whole round trip (connect, send, reply)", TimeSpan.FromSeconds(5), "-t");
        var proxy = new ProxyProtocolOption();
        var command = new Command("ping", "Connect, send DATA, read the reply (as many bytes as were sent), print it and the dial, write, read and total time")
        {
            address, data, timeout,
        };
        proxy.AddTo(command);
        command.SetAction((result, ct) => Cli.FTestCli.GuardAsync(console, () => new PingCommand(console).RunAsync(
            new PingOptions(result.GetRequiredValue(address), result.GetRequiredValue(data), Options.Value(result, timeout), proxy.Value(result)),
            ct)));
        return command;
    }

    public async Task<int> RunAsync(PingOptions options, CancellationToken ct)
    {
        var endPoint = await options.Address.ResolveAsync(console.Resolver, ct).ConfigureAwait(false);
        var data = Bytes.Of(options.Data);
        var result = await RoundTrip.RunAsync(endPoint, options.Proxy, data, data, options.Timeout, ct).ConfigureAwait(false);
        var output = console.Out;

        // What was claimed and what the target says it read, before the reply: the point of
        // pinging with a header is seeing both.
        if (result.Sent is { } sent)
        {
            output.WriteLine($"{options.Address}: sent PROXY v{sent.Version} header {ProxyReplyLine.Describe(sent)}");
        }

        if (result.ProxyLine is { } line)
        {
            output.WriteLine($"{options.Address}: target replied {Bytes.Quote(line)}");
        }

        if (result.Reply.Length > 0 || result.Succeeded)
        {
            output.WriteLine($"{options.Address}: {result.Reply.Length} bytes {Bytes.Quote(result.Reply)}");
        }

        if (result.Failure is { } failure)
        {
            console.Fail($"ping {options.Address}: {failure}");
            return ExitCodes.Failure;
        }

        output.WriteLine($"dial   {Durations.Milliseconds(result.Dial)}");
        output.WriteLine($"write  {Durations.Milliseconds(result.Write)}");
        output.WriteLine($"read   {Durations.Milliseconds(result.Read)}");
        output.WriteLine($"total  {Durations.Milliseconds(result.Total)}");
        return ExitCodes.Success;
    }
}

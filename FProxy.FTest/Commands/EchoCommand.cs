using System.CommandLine;
using System.Globalization;
using System.Net;
using FProxy.FTest.Cli;
using FProxy.FTest.Net;

namespace FProxy.FTest.Commands;

/// <summary><c>ftest echo</c>: local echo backends, so FProxy can be tried with no remote service. Runs until interrupted.</summary>
internal sealed class EchoCommand(ToolConsole console)
{
    public const string DefaultTag = "echo";

    private readonly TaskCompletionSource<IReadOnlyList<IPEndPoint>> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes with the bound end points once every backend listens (tests wait on it).</summary>
    public Task<IReadOnlyList<IPEndPoint>> Listening => _listening.Task;

    public static Command Build(ToolConsole console)
    {
        var ports = new Argument<int[]>("PORT")
        {
            Description = "Ports to listen on, one echo backend each (0 picks a free port)",
            Arity = ArgumentArity.OneOrMore,
            CustomParser = static result =>
            {
                var ports = new List<int>();
                foreach (var token in result.Tokens)
                {
                    if (!int.TryParse(token.Value, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
                    {
                        // "echo 9001 --proxy-protocol v1", by analogy with the clients, lands "v1" here.
                        var hint = token.Value is "v1" or "v2" ? "; echo's --proxy-protocol takes no version, it reads v1 and v2" : string.Empty;
                        result.AddError($"invalid port \"{token.Value}\": expected 0-65535{hint}");
                        return [];
                    }

                    ports.Add(port);
                }

                return [.. ports];
            },
        };
        var bind = new Option<IPAddress>("--bind", "-b")
        {
            Description = "Address to listen on (:: for IPv4 and IPv6)",
            HelpName = "ADDR",
            DefaultValueFactory = static _ => IPAddress.Loopback,
            CustomParser = static result =>
            {
                var text = result.Tokens[0].Value.Trim('[', ']');
                if (IPAddress.TryParse(text, out var address))
                {
                    return address;
                }

                result.AddError($"invalid --bind \"{result.Tokens[0].Value}\": expected an IP address such as 127.0.0.1, 0.0.0.0, ::1 or ::");
                return null;
            },
        };
        var tag = new Option<string>("--tag")
        {
            Description = $"Greet each connection with a line naming the backend (NAME:PORT, NAME defaults to \"{DefaultTag}\"), then echo",
            HelpName = "NAME",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var proxy = new Option<bool>("--proxy-protocol")
        {
            Description = "Require a PROXY protocol header (v1 or v2) on each connection and reply with a line saying what it carried "
                + "(\"PROXY SRC -> DST\\n\", or \"PROXY LOCAL\\n\"), before any greeting and the echo; a connection without one is reset",
        };
        var command = new Command("echo", "Run local TCP echo backends until interrupted (Ctrl+C)")
        {
            ports, bind, tag, proxy,
        };
        command.SetAction((result, ct) => FTestCli.GuardAsync(console, () => new EchoCommand(console).RunAsync(
            new EchoOptions(
                result.GetRequiredValue(ports),
                result.GetRequiredValue(bind),
                result.GetResult(tag) is null ? null : result.GetValue(tag) ?? DefaultTag,
                result.GetValue(proxy)),
            ct)));
        return command;
    }

    public async Task<int> RunAsync(EchoOptions options, CancellationToken ct)
    {
        var backends = new List<EchoBackend>();

        // The backends report each connection's header from their own threads.
        var output = TextWriter.Synchronized(console.Out);
        try
        {
            foreach (var port in options.Ports)
            {
                var backend = EchoBackend.Start(options.Bind, port, options.Tag, options.ProxyProtocol, output);
                backends.Add(backend);
                var proxy = options.ProxyProtocol ? "PROXY header, its line, " : string.Empty;
                var what = backend.Greeting is null ? $"{proxy}echo" : $"{proxy}greeting {Bytes.Quote(Bytes.Of(backend.Greeting))}, then echo";
                output.WriteLine($"listening on {EchoBackend.Format(backend.EndPoint)} ({what})");
            }

            output.Flush();
            _listening.TrySetResult([.. backends.Select(static b => b.EndPoint)]);
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: the normal way to stop.
            }

            output.WriteLine("stopped");
            return ExitCodes.Success;
        }
        catch (Exception e)
        {
            _listening.TrySetException(e);
            throw;
        }
        finally
        {
            foreach (var backend in backends)
            {
                await backend.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

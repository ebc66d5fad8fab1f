using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Parsing;
using FProxy.FTest.Commands;
using FProxy.FTest.Net;

namespace FProxy.FTest.Cli;

/// <summary>The <c>ftest</c> command line: parse, run one command, map every problem to one line and an exit code.</summary>
internal static class FTestCli
{
    /// <summary>
    /// The root is a plain command named "ftest" rather than a RootCommand, whose name is the
    /// executable's ("FProxy.FTest", or "testhost" in tests): help always reads "ftest".
    /// </summary>
    public static Command Build(ToolConsole console) => new(
        "ftest",
        "ftest: test FProxy (or any TCP service) from the command line: ping it, check its balancing, load it, "
        + "watch its availability during a rollout, run local echo backends to point it at, and roll a config out to a fleet through etcd.")
    {
        new HelpOption(),
        new VersionOption(),
        PingCommand.Build(console),
        BalancerCommand.Build(console),
        SimulateCommand.Build(console),
        EchoCommand.Build(console),
        WatchCommand.Build(console),
        FleetCommand.Build(console),
    };

    public static async Task<int> RunAsync(string[] args, ToolConsole console, CancellationToken ct)
    {
        var root = Build(console);
        var config = new InvocationConfiguration
        {
            Output = console.Out,
            Error = console.Error,
            EnableDefaultExceptionHandler = false,
        };
        if (args.Length == 0)
        {
            // Bare "ftest": the overview, but still a usage error for scripts.
            await root.Parse(["--help"]).InvokeAsync(config, ct).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        var parsed = root.Parse(args);
        if (parsed.Errors.Count > 0 && parsed.Action is not HelpAction)
        {
            // One line, like every other ftest error, naming where the full usage is. "ftest bogus"
            // also lacks a command, but the unknown word is the better news.
            var error = parsed.Errors.FirstOrDefault(static e => !e.Message.StartsWith("Required command", StringComparison.Ordinal)) ?? parsed.Errors[0];
            var help = $"{CommandPath(parsed.CommandResult)} --help";
            console.Fail($"{error.Message} (see {help})");
            return IsBadValue(error.Message) ? ExitCodes.Failure : ExitCodes.Usage;
        }

        return await GuardAsync(console, () => parsed.InvokeAsync(config, ct)).ConfigureAwait(false);
    }

    /// <summary>The command's full name as typed, "ftest fleet push", for the help hint.</summary>
    private static string CommandPath(CommandResult result)
    {
        var names = new List<string>();
        for (var current = result; current is not null; current = current.Parent as CommandResult)
        {
            names.Add(current.Command.Name);
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>
    /// Bad input (a value ftest's own parsers reject: an unparsable address, duration or port,
    /// -d and -e of different lengths) exits 1 like a fault, as the issue asks; a malformed
    /// command line (unknown option, missing argument, conflicting options) is a usage error, 2.
    /// Every message of ftest's parsers starts with "invalid " or "-d ", or ends "must not be empty".
    /// </summary>
    internal static bool IsBadValue(string message) =>
        message.StartsWith("invalid ", StringComparison.Ordinal)
        || message.StartsWith("-d ", StringComparison.Ordinal)
        || message.EndsWith("must not be empty", StringComparison.Ordinal);

    /// <summary>Runs a command, turning any exception into one line on standard error: never a stack trace.</summary>
    public static async Task<int> GuardAsync(ToolConsole console, Func<Task<int>> run)
    {
        try
        {
            return await run().ConfigureAwait(false);
        }
        catch (ToolException e)
        {
            console.Fail(e.Message);
            return e.ExitCode;
        }
        catch (OperationCanceledException)
        {
            console.Fail("interrupted");
            return ExitCodes.Failure;
        }
#pragma warning disable CA1031 // The last line of defence: the user sees one line, not a trace.
        catch (Exception e)
#pragma warning restore CA1031
        {
            console.Fail($"{e.GetType().Name}: {e.Message}");
            return ExitCodes.Failure;
        }
    }
}

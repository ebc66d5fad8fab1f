using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using FProxy.Etcd;
using FProxy.FTest.Cli;
using FProxy.FTest.Fleet;
using FProxy.FTest.Net;
using FProxy.Diagnostics;

namespace FProxy.FTest.Commands;

/// <summary>
/// <c>ftest fleet wait</c>: polls the node reports until every live node has applied a revision
/// (success), or the timeout passes (failure naming the nodes behind). An etcd that does not
/// answer is asked again until the timeout: a rollout may restart it.
/// </summary>
internal sealed class FleetWaitCommand(ToolConsole console)
{
    /// <summary>The least time a read of the node reports is given (a loopback read takes about a millisecond).</summary>
    private static readonly TimeSpan MinimumRead = TimeSpan.FromSeconds(1);

    public static Command Build(ToolConsole console)
    {
        var etcd = new EtcdTargetOptions();
        var revision = new Argument<long>("REVISION")
        {
            Description = "The revision every node must have applied: what ftest fleet push printed",
            CustomParser = static result =>
            {
                var text = result.Tokens[0].Value;
                if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value > 0)
                {
                    return value;
                }

                result.AddError($"invalid REVISION \"{text}\": expected a positive integer, as ftest fleet push prints");
                return 0;
            },
        };
        var timeout = Options.Duration("--timeout", "How long to wait before giving up", TimeSpan.FromSeconds(30), "-t");
        var interval = Options.Duration("--interval", "Time between reads of the node reports", TimeSpan.FromMilliseconds(200), "-i");
        var command = new Command(
            "wait",
            "Wait until every live node under PREFIX/nodes/ (at least one) reports an applied revision of REVISION or later: "
            + "exit 0 then, or 1 at the timeout, naming each node still behind")
        {
            revision, timeout, interval,
        };
        foreach (var option in etcd.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, ct) => FTestCli.GuardAsync(console, () => new FleetWaitCommand(console).RunAsync(
            new FleetWaitOptions(
                etcd.Resolve(result, Environment.GetEnvironmentVariable),
                result.GetRequiredValue(revision),
                Options.Value(result, timeout),
                Options.Value(result, interval)),
            ct)));
        return command;
    }

    public async Task<int> RunAsync(FleetWaitOptions options, CancellationToken ct)
    {
        using var connection = FleetStore.Connect(options.Etcd);
        var store = new FleetStore(connection);
        var start = Stopwatch.GetTimestamp();
        FleetStatus? last = null;
        string? unreachable = null;
        while (true)
        {
            var remaining = options.Timeout - Stopwatch.GetElapsedTime(start);
            try
            {
                // A read that hangs must not outlast the wait by much; but the last read, made as
                // the time runs out, still gets long enough for a round trip, or it would fail
                // for want of time rather than tell who is behind.
                var deadline = DateTime.UtcNow + (remaining > MinimumRead ? remaining : MinimumRead);
                last = await store.ReadStatusAsync(deadline, ct).ConfigureAwait(false);
                unreachable = null;
                if (last.Nodes.Count > 0 && last.Nodes.All(n => n.HasApplied(options.Revision)))
                {
                    console.Out.WriteLine($"all {Counted.Of(last.Nodes.Count, "node")} {(last.Nodes.Count == 1 ? "has" : "have")} applied revision {options.Revision} (lowest: {last.Nodes.Min(static n => n.Report!.AppliedRevision)})");
                    return ExitCodes.Success;
                }
            }
            catch (ToolException e) when (e.Transient)
            {
                unreachable = e.Message;
            }

            remaining = options.Timeout - Stopwatch.GetElapsedTime(start);
            if (remaining <= TimeSpan.Zero)
            {
                break;
            }

            await Task.Delay(remaining < options.Interval ? remaining : options.Interval, ct).ConfigureAwait(false);
        }

        var waited = $"timed out after {Durations.Format(options.Timeout)} waiting for revision {options.Revision}";
        var stillUnreachable = unreachable is null ? string.Empty : $" (the last read failed: {unreachable})";
        if (last is null)
        {
            console.Fail($"wait: {waited}: {unreachable}");
            return ExitCodes.Failure;
        }

        if (last.Nodes.Count == 0)
        {
            console.Fail($"wait: {waited}: no nodes reported under {EtcdLayout.NodesPrefix(store.Prefix)}{stillUnreachable}");
            return ExitCodes.Failure;
        }

        var laggards = last.Nodes.Where(n => !n.HasApplied(options.Revision)).ToList();
        foreach (var node in laggards)
        {
            console.Out.WriteLine($"behind: {node.Describe()}");
        }

        console.Fail(
            $"wait: {waited}: {laggards.Count} of {Counted.Of(last.Nodes.Count, "node")} behind: "
            + string.Join(", ", laggards.Select(static n => n.Describe()))
            + stillUnreachable);
        return ExitCodes.Failure;
    }
}

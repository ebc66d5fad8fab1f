using System.CommandLine;
using FProxy.FTest.Cli;
using FProxy.FTest.Net;
using FProxy.FTest.Reports;
using Spectre.Console;

namespace FProxy.FTest.Commands;

/// <summary>
/// <c>ftest balancer</c>: one connection per item, in order, each reply compared with its
/// expectation. The reply read is as long as the expectation, so against tagged echo backends
/// (<c>ftest echo --tag</c>) an expectation can name the backend that should answer. A target's
/// "PROXY ..." line (<c>ftest echo --proxy-protocol</c>) is set aside before the comparison and
/// shown in a column of its own.
/// </summary>
internal sealed class BalancerCommand(ToolConsole console)
{
    public static Command Build(ToolConsole console)
    {
        var address = Options.Address();
        var data = new Option<string>("--data", "-d") { Description = "Comma-separated items to send, one connection each, in order", HelpName = "a,b,c", Required = true };
        var expect = new Option<string>("--expect", "-e") { Description = "Comma-separated replies expected, one per item", HelpName = "x,y,z", Required = true };
        var timeout = Options.Duration("--timeout", "Budget for each round trip", TimeSpan.FromSeconds(5), "-t");
        var proxy = new ProxyProtocolOption();
        var command = new Command("balancer", "Check balancing: send each -d item on its own connection and compare each reply with its -e expectation; stop at the first mismatch")
        {
            address, data, expect, timeout,
        };
        proxy.AddTo(command);
        command.Validators.Add(result =>
        {
            var d = result.GetValue(data);
            var e = result.GetValue(expect);
            if (d is null || e is null)
            {
                return;
            }

            var (dn, en) = (Options.SplitList(d).Length, Options.SplitList(e).Length);
            if (dn != en)
            {
                result.AddError($"-d has {dn} item(s) but -e has {en}: give one expectation per item");
            }
            else if (Options.SplitList(d).Any(static s => s.Length == 0) || Options.SplitList(e).Any(static s => s.Length == 0))
            {
                result.AddError("-d and -e items must not be empty");
            }
        });
        command.SetAction((result, ct) => FTestCli.GuardAsync(console, () => new BalancerCommand(console).RunAsync(
            new BalancerOptions(
                result.GetRequiredValue(address),
                Options.SplitList(result.GetRequiredValue(data)),
                Options.SplitList(result.GetRequiredValue(expect)),
                Options.Value(result, timeout),
                proxy.Value(result)),
            ct)));
        return command;
    }

    public async Task<int> RunAsync(BalancerOptions options, CancellationToken ct)
    {
        if (options.Data.Count != options.Expected.Count)
        {
            throw new ToolException($"-d has {options.Data.Count} item(s) but -e has {options.Expected.Count}: give one expectation per item");
        }

        var endPoint = await options.Address.ResolveAsync(console.Resolver, ct).ConfigureAwait(false);
        var stats = new LoadStats();
        var results = new List<RoundTripResult>();
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        string? problem = null;
        for (var i = 0; i < options.Data.Count && problem is null; i++)
        {
            var data = Bytes.Of(options.Data[i]);
            var expected = Bytes.Of(options.Expected[i]);
            var result = await RoundTrip.RunAsync(endPoint, options.Proxy, data, expected, options.Timeout, ct).ConfigureAwait(false);
            if (result.Failure is null && !result.Reply.AsSpan().SequenceEqual(expected))
            {
                result = result with { Failure = new Failure(FailureKind.WrongReply, $"expected {Bytes.Quote(expected)}, got {Bytes.Quote(result.Reply)}") };
            }

            stats.Add(result);
            results.Add(result);
            if (result.Failure is { } failure)
            {
                problem = $"balancer {options.Address}: item {i + 1} of {options.Data.Count}: {failure}";
            }
        }

        var report = stats.Snapshot(options.Address.ToString(), System.Diagnostics.Stopwatch.GetElapsedTime(start));
        console.Ansi.Write(ResultTable(options, results));
        LoadReportView.Write(console, report, problem is null ? "balancer" : "balancer (stopped at the first mismatch)");
        if (problem is not null)
        {
            console.Fail(problem);
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    }

    /// <summary>One row per item tried; the target's "PROXY ..." lines in a column only when one sent any.</summary>
    private static Table ResultTable(BalancerOptions options, List<RoundTripResult> results)
    {
        var lines = results.Any(static r => r.ProxyLine is not null);
        var table = new Table { Border = TableBorder.Simple }
            .AddColumn(new TableColumn("#").RightAligned())
            .AddColumn("sent")
            .AddColumn("expected");
        if (lines)
        {
            table.AddColumn("target's PROXY line");
        }

        table.AddColumn("reply")
            .AddColumn("result")
            .AddColumn(new TableColumn("time").RightAligned());
        for (var i = 0; i < results.Count; i++)
        {
            var result = results[i];
            var row = new List<Text>
            {
                Cell((i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)),
                Cell(Bytes.Quote(Bytes.Of(options.Data[i]))),
                Cell(Bytes.Quote(Bytes.Of(options.Expected[i]))),
            };
            if (lines)
            {
                row.Add(Cell(result.ProxyLine is { } line ? Bytes.Quote(line) : "-"));
            }

            row.Add(Cell(Bytes.Quote(result.Reply)));
            row.Add(Cell(result.Failure is null ? "ok" : Failures.Name(result.Failure.Kind)));
            row.Add(Cell(Durations.Milliseconds(result.Total)));
            table.AddRow(row);
        }

        return table;
    }

    private static Text Cell(string text) => new(text);
}

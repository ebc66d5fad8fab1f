using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using FProxy.FTest.Cli;
using FProxy.FTest.Net;
using FProxy.FTest.Reports;
using Spectre.Console;

namespace FProxy.FTest.Commands;

/// <summary>
/// <c>ftest simulate</c>: concurrent load. Workers take request numbers from one counter, so
/// -n is a total; --rate spaces request starts on one schedule shared by all workers.
/// </summary>
internal sealed class SimulateCommand(ToolConsole console)
{
    public static Command Build(ToolConsole console)
    {
        var address = Options.Address();
        var concurrency = Options.Positive("--concurrency", "Concurrent workers (connections in flight)", 50, "-c");
        var data = Options.Data("hello world");
        var requests = Options.Positive("--requests", "Total requests (default: one per worker)", null, "-n");
        var duration = Options.Duration("--duration", "Run for this long instead of a number of requests", null);
        var rate = new Option<double>("--rate")
        {
            Description = "Total request rate across all workers, as R/s or R (default: as fast as they go)",
            HelpName = "R/s",
            CustomParser = static result =>
            {
                var text = result.Tokens[0].Value;
                var number = text.EndsWith("/s", StringComparison.Ordinal) ? text[..^2] : text;
                if (double.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var r) && r > 0 && double.IsFinite(r))
                {
                    return r;
                }

                result.AddError($"invalid --rate \"{text}\": expected a positive number of requests per second, e.g. 100/s");
                return 0;
            },
        };
        var timeout = Options.Duration("--timeout", "Budget for each round trip", TimeSpan.FromSeconds(5), "-t");
        var json = new Option<bool>("--json") { Description = "Print the report as JSON (no live progress)" };
        var proxy = new ProxyProtocolOption();
        var command = new Command("simulate", "Put concurrent load on ADDRESS and report requests, errors by kind, throughput and latency")
        {
            address, concurrency, data, requests, duration, rate, timeout, json,
        };
        proxy.AddTo(command);
        command.Validators.Add(result =>
        {
            if (result.GetResult(requests) is { Implicit: false } && result.GetResult(duration) is { Implicit: false })
            {
                result.AddError("use either --requests or --duration, not both");
            }
        });
        command.SetAction((result, ct) => FTestCli.GuardAsync(console, () => new SimulateCommand(console).RunAsync(
            new SimulateOptions(
                result.GetRequiredValue(address),
                result.GetValue(concurrency),
                result.GetRequiredValue(data),
                result.GetResult(requests) is null ? null : result.GetValue(requests),
                result.GetResult(duration) is null ? null : Options.Value(result, duration),
                result.GetResult(rate) is null ? null : result.GetValue(rate),
                Options.Value(result, timeout),
                result.GetValue(json),
                proxy.Value(result)),
            ct)));
        return command;
    }

    public async Task<int> RunAsync(SimulateOptions options, CancellationToken ct)
    {
        var endPoint = await options.Address.ResolveAsync(console.Resolver, ct).ConfigureAwait(false);
        var stats = new LoadStats();
        var start = Stopwatch.GetTimestamp();
        var run = RunWorkersAsync(endPoint, options, stats, ct);
        var live = console.Live && !options.Json;
        if (live)
        {
            // Cleared at the end: the final report follows.
            await console.Ansi.Live(new Text("starting")).AutoClear(true).StartAsync(async context =>
            {
                while (!run.IsCompleted)
                {
                    context.UpdateTarget(LoadReportView.Live(stats.Snapshot(options.Address.ToString(), Stopwatch.GetElapsedTime(start)), "simulate (running)"));
                    context.Refresh();
                    await Task.WhenAny(run, Task.Delay(250, CancellationToken.None)).ConfigureAwait(false);
                }
            }).ConfigureAwait(false);
        }

        await run.ConfigureAwait(false);
        var report = stats.Snapshot(options.Address.ToString(), Stopwatch.GetElapsedTime(start));
        if (options.Json)
        {
            console.Out.WriteLine(LoadReportView.Json(report));
        }
        else
        {
            LoadReportView.Write(console, report, "simulate");
        }

        if (report.Failed > 0)
        {
            console.Fail($"simulate {options.Address}: {report.Failed} of {report.Requests} requests failed ({LoadReportView.ErrorLine(report)})");
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    }

    private static Task RunWorkersAsync(IPEndPoint endPoint, SimulateOptions options, LoadStats stats, CancellationToken ct)
    {
        var data = Bytes.Of(options.Data);
        var total = options.Duration is null ? options.Requests ?? options.Concurrency : int.MaxValue;
        var start = Stopwatch.GetTimestamp();
        var next = -1;
        return Task.WhenAll(Enumerable.Range(0, Math.Min(options.Concurrency, total)).Select(_ => Task.Run(WorkerAsync, ct)));

        async Task WorkerAsync()
        {
            while (!ct.IsCancellationRequested)
            {
                var index = Interlocked.Increment(ref next);
                if (index >= total)
                {
                    return;
                }

                var wait = options.Rate is { } rate ? TimeSpan.FromSeconds(index / rate) - Stopwatch.GetElapsedTime(start) : TimeSpan.Zero;
                if (options.Duration is { } duration && Stopwatch.GetElapsedTime(start) + (wait > TimeSpan.Zero ? wait : TimeSpan.Zero) >= duration)
                {
                    return;
                }

                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, ct).ConfigureAwait(false);
                }

                var result = await RoundTrip.RunAsync(endPoint, options.Proxy, data, data, options.Timeout, ct).ConfigureAwait(false);
                if (result.Failure is null && !result.Reply.AsSpan().SequenceEqual(data))
                {
                    result = result with { Failure = new Failure(FailureKind.WrongReply, $"expected {Bytes.Quote(data)}, got {Bytes.Quote(result.Reply)}") };
                }

                stats.Add(result);
            }
        }
    }
}

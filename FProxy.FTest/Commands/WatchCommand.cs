using System.CommandLine;
using System.Diagnostics;
using FProxy.FTest.Cli;
using FProxy.FTest.Net;
using FProxy.FTest.Reports;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FProxy.FTest.Commands;

/// <summary>
/// <c>ftest watch</c>: an availability monitor for rollouts. Connects, round-trips, closes, once
/// per interval (back to back when a round trip takes longer), and exits 1 if any attempt failed.
/// </summary>
internal sealed class WatchCommand(ToolConsole console)
{
    public static Command Build(ToolConsole console)
    {
        var address = Options.Address();
        var interval = Options.Duration("--interval", "Time between connection starts", TimeSpan.FromMilliseconds(50), "-i");
        var duration = Options.Duration("--duration", "How long to watch (Ctrl+C ends it early)", TimeSpan.FromSeconds(60));
        var data = Options.Data("ping");
        var timeout = Options.Duration("--timeout", "Budget for each round trip", TimeSpan.FromSeconds(1), "-t");
        var proxy = new ProxyProtocolOption();
        var command = new Command("watch", "Monitor availability during a rollout: connect, round-trip, close, in a loop; report each failure and the longest outage")
        {
            address, interval, duration, data, timeout,
        };
        proxy.AddTo(command);
        command.SetAction((result, ct) => FTestCli.GuardAsync(console, () => new WatchCommand(console).RunAsync(
            new WatchOptions(
                result.GetRequiredValue(address),
                Options.Value(result, interval),
                Options.Value(result, duration),
                result.GetRequiredValue(data),
                Options.Value(result, timeout),
                proxy.Value(result)),
            ct)));
        return command;
    }

    public async Task<int> RunAsync(WatchOptions options, CancellationToken ct)
    {
        var endPoint = await options.Address.ResolveAsync(console.Resolver, ct).ConfigureAwait(false);
        var availability = new Availability();
        var start = Stopwatch.GetTimestamp();
        var loop = LoopAsync(endPoint, options, availability, start, live: console.Live, ct);
        if (console.Live)
        {
            // Cleared at the end: every failure and the summary follow as plain lines.
            await console.Ansi.Live(new Text("starting")).AutoClear(true).StartAsync(async context =>
            {
                while (!loop.IsCompleted)
                {
                    context.UpdateTarget(View(options, availability, start));
                    context.Refresh();
                    await Task.WhenAny(loop, Task.Delay(200, CancellationToken.None)).ConfigureAwait(false);
                }

            }).ConfigureAwait(false);
            foreach (var failure in availability.RecentFailures(int.MaxValue))
            {
                console.Out.WriteLine(failure.ToString());
            }
        }

        await loop.ConfigureAwait(false);
        var longest = availability.LongestOutage(Stopwatch.GetTimestamp());
        var outage = availability.Failed == 0 ? "none" : Durations.Milliseconds(longest);
        console.Out.WriteLine(
            $"{options.Address}: {availability.Attempts} connections, {availability.Succeeded} ok, {availability.Failed} failed "
            + $"({availability.Rate()}) in {Durations.Milliseconds(Stopwatch.GetElapsedTime(start))}; longest outage: {outage}");
        if (availability.Failed > 0)
        {
            console.Fail($"watch {options.Address}: {availability.Failed} of {availability.Attempts} connections failed; longest outage {outage}");
            return ExitCodes.Failure;
        }

        return ExitCodes.Success;
    }

    private async Task LoopAsync(System.Net.IPEndPoint endPoint, WatchOptions options, Availability availability, long start, bool live, CancellationToken ct)
    {
        var data = Bytes.Of(options.Data);
        var next = TimeSpan.Zero;
        try
        {
            while (Stopwatch.GetElapsedTime(start) < options.Duration)
            {
                var attempt = Stopwatch.GetTimestamp();
                var result = await RoundTrip.RunAsync(endPoint, options.Proxy, data, data, options.Timeout, ct).ConfigureAwait(false);
                var failure = result.Failure;
                if (failure is null && !result.Reply.AsSpan().SequenceEqual(data))
                {
                    failure = new Failure(FailureKind.WrongReply, $"expected {Bytes.Quote(data)}, got {Bytes.Quote(result.Reply)}");
                }

                var record = failure is null ? null : new WatchFailure(DateTimeOffset.Now, failure);
                availability.Add(attempt, record);
                if (record is not null && !live)
                {
                    console.Out.WriteLine(record.ToString());
                }

                next += options.Interval;
                var wait = next - Stopwatch.GetElapsedTime(start);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait < options.Duration ? wait : options.Duration, ct).ConfigureAwait(false);
                }
                else
                {
                    // Overran the interval: start again from now rather than bursting to catch up.
                    next = Stopwatch.GetElapsedTime(start);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Ctrl+C ends the watch early; the summary still prints.
        }
    }

    private static IRenderable View(WatchOptions options, Availability availability, long start)
    {
        var now = Stopwatch.GetTimestamp();
        var state = $"watching {options.Address} for {Durations.Format(options.Duration)}";
        var rate = availability.Failed == 0 ? $"[green]{availability.Rate()}[/]" : $"[red]{availability.Rate()}[/]";
        var rows = new List<IRenderable>
        {
            new Text($"{state}: {Durations.Milliseconds(Stopwatch.GetElapsedTime(start))} elapsed"),
            new Markup($"{availability.Attempts} connections, {availability.Failed} failed, success rate {rate}, longest outage {Durations.Milliseconds(availability.LongestOutage(now))}"),
        };
        rows.AddRange(availability.RecentFailures(10).Select(static f => new Text(f.ToString())));
        return new Rows(rows);
    }
}

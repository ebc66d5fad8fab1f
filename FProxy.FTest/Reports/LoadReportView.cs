using System.Globalization;
using System.Text;
using System.Text.Json;
using FProxy.FTest.Net;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace FProxy.FTest.Reports;

/// <summary>A <see cref="LoadReport"/> as a table (terminal and plain text) or as JSON (scripts).</summary>
internal static class LoadReportView
{
    /// <summary>The final report: summary lines as plain text (never wrapped), then the latency table.</summary>
    public static void Write(Cli.ToolConsole console, LoadReport report, string title)
    {
        console.Out.WriteLine(title + ": " + Summary(report));
        console.Out.WriteLine(ErrorLine(report));
        console.Ansi.Write(LatencyTable(report));
    }

    /// <summary>The report as one renderable, for live displays.</summary>
    public static IRenderable Live(LoadReport report, string title) =>
        new Rows(new Text(title + ": " + Summary(report)), new Text(ErrorLine(report)), LatencyTable(report));

    private static Table LatencyTable(LoadReport report)
    {
        var table = new Table { Border = TableBorder.Simple }
            .AddColumn("")
            .AddColumn(new TableColumn("p50").RightAligned())
            .AddColumn(new TableColumn("p90").RightAligned())
            .AddColumn(new TableColumn("p99").RightAligned())
            .AddColumn(new TableColumn("max").RightAligned());
        AddLatency(table, "dial", report.Dial);
        AddLatency(table, "response", report.Response);
        return table;
    }

    public static string Summary(LoadReport report) => string.Create(
        CultureInfo.InvariantCulture,
        $"{report.Address}: {report.Requests} requests, {report.Succeeded} ok, {report.Failed} failed in {Durations.Milliseconds(report.Elapsed)} ({report.Throughput:0.#} req/s)");

    public static string ErrorLine(LoadReport report)
    {
        var parts = report.Errors.Where(static e => e.Value > 0).Select(static e => $"{Failures.Name(e.Key)} {e.Value}").ToArray();
        return "errors: " + (parts.Length == 0 ? "none" : string.Join(", ", parts));
    }

    public static string Json(LoadReport report)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("address", report.Address);
            json.WriteNumber("requests", report.Requests);
            json.WriteNumber("succeeded", report.Succeeded);
            json.WriteNumber("failed", report.Failed);
            json.WriteStartObject("errors");
            foreach (var (kind, count) in report.Errors)
            {
                json.WriteNumber(Failures.Name(kind).Replace(' ', '_'), count);
            }

            json.WriteEndObject();
            json.WriteNumber("elapsedMs", Math.Round(report.Elapsed.TotalMilliseconds, 3));
            json.WriteNumber("throughput", Math.Round(report.Throughput, 1));
            WriteLatency(json, "dialMs", report.Dial);
            WriteLatency(json, "responseMs", report.Response);
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void AddLatency(Table table, string name, Latency latency) => table.AddRow(
        name, Durations.Milliseconds(latency.P50), Durations.Milliseconds(latency.P90), Durations.Milliseconds(latency.P99), Durations.Milliseconds(latency.Max));

    private static void WriteLatency(Utf8JsonWriter json, string name, Latency latency)
    {
        json.WriteStartObject(name);
        json.WriteNumber("p50", Math.Round(latency.P50.TotalMilliseconds, 3));
        json.WriteNumber("p90", Math.Round(latency.P90.TotalMilliseconds, 3));
        json.WriteNumber("p99", Math.Round(latency.P99.TotalMilliseconds, 3));
        json.WriteNumber("max", Math.Round(latency.Max.TotalMilliseconds, 3));
        json.WriteEndObject();
    }
}

using System.Globalization;

namespace FProxy.Benchmarks.Ci;

/// <summary>
/// Prints the CI comparison as a Markdown table (readable in a log, pastable into a review), then
/// one line per failure naming the benchmark and each problem. When the baseline is being
/// rewritten the same differences are changes to review, not failures.
/// </summary>
internal static class ComparisonTable
{
    private const string Namespace = "FProxy.Benchmarks.";

    private static readonly string[] Headers = ["Benchmark", "Baseline", "Now", "Ratio", "Baseline alloc", "Now alloc", "Verdict"];

    // Right-align the numbers, left-align the text.
    private static readonly bool[] Numeric = [false, true, true, true, true, true, false];

    public static void Print(TextWriter output, IReadOnlyList<Comparison> rows, bool updatingBaseline)
    {
        var (verdict, prefix) = updatingBaseline ? ("changed", "CHANGED") : ("FAIL", "REGRESSION");
        var cells = rows.Select(row => new[]
        {
            ShortName(row.Name),
            row.Baseline is { } before ? FormatTime(before.MeanNs) : "-",
            row.Now is { } now ? FormatTime(now.MeanNs) : "-",
            row.Ratio is { } ratio ? ratio.ToString("0.00", CultureInfo.InvariantCulture) : "-",
            row.Baseline is { } b ? FormatBytes(b.AllocatedBytes) : "-",
            row.Now is { } n ? FormatBytes(n.AllocatedBytes) : "-",
            (row.Passed ? "ok" : verdict) + (row.Attempt > 1 ? $" (pass {row.Attempt})" : ""),
        }).ToList();

        var widths = Headers.Select((header, column) => cells.Select(row => row[column].Length).Append(header.Length).Max()).ToArray();
        output.WriteLine(Line(Headers, widths));
        output.WriteLine("| " + string.Join(" | ", widths.Select((width, column) => Numeric[column] ? new string('-', width - 1) + ":" : new string('-', width))) + " |");
        foreach (var row in cells)
        {
            output.WriteLine(Line(row, widths));
        }

        output.WriteLine();
        foreach (var row in rows.Where(static row => !row.Passed))
        {
            output.WriteLine($"{prefix} {ShortName(row.Name)}: {string.Join("; ", row.Problems)}");
        }
    }

    private static string Line(string[] cells, int[] widths) =>
        "| " + string.Join(" | ", cells.Select((cell, column) => Numeric[column] ? cell.PadLeft(widths[column]) : cell.PadRight(widths[column]))) + " |";

    private static string ShortName(string name) => name.StartsWith(Namespace, StringComparison.Ordinal) ? name[Namespace.Length..] : name;

    private static string FormatTime(double nanoseconds) => nanoseconds switch
    {
        < 1_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds:0.00} ns"),
        < 1_000_000 => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1_000:0.00} us"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{nanoseconds / 1_000_000:0.00} ms"),
    };

    private static string FormatBytes(long bytes) => string.Create(CultureInfo.InvariantCulture, $"{bytes} B");
}

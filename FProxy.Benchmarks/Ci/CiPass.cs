using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using BenchmarkDotNet.Environments;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace FProxy.Benchmarks.Ci;

/// <summary>
/// The CI pass: runs <see cref="CiSubset"/> with <see cref="CiConfig"/> (BenchmarkDotNet prints
/// its summary tables as it goes), then either compares the figures with the committed baseline
/// (<see cref="RegressionCheck"/>) or, with --update-baseline, writes them as the new baseline.
/// A benchmark that fails only in ways noise can cause is rerun, after waiting for the machine to
/// be quiet, before it fails the pass. The figures before any rerun also go to ci-results.json
/// among the artifacts (the baseline's format), to compare passes with each other.
/// </summary>
/// <remarks>Exit codes: 0 passed (or baseline written), 1 a regression or a benchmark out of step with the baseline, 2 could not run.</remarks>
internal static class CiPass
{
    private const int Passed = 0;
    private const int Regressed = 1;
    private const int CouldNotRun = 2;

    /// <summary>
    /// Further passes a benchmark gets when it fails only on time (or on allocations within a
    /// stated noise): it fails CI only if all 1 + Reruns passes find it out of bounds.
    /// </summary>
    private const int Reruns = 2;

    /// <summary>Longest wait, before each rerun, for other work to leave the cores (a full rebuild takes ~1.5 min).</summary>
    private static readonly TimeSpan QuietWaitLimit = TimeSpan.FromSeconds(90);

    public static int Run(CiOptions options)
    {
        if (Environment.GetEnvironmentVariable(BenchmarkConfig.InlineCompletions) != "1")
        {
            // The runtime reads it once, before any socket exists; an in-process job cannot set it.
            Console.Error.WriteLine($"The CI pass runs in-process: start it with {BenchmarkConfig.InlineCompletions}=1 set, as the host runs (.ci/run does).");
            return CouldNotRun;
        }

        if (!options.UpdateBaseline && !File.Exists(options.BaselinePath))
        {
            Console.Error.WriteLine($"No baseline at {options.BaselinePath}: record one with --ci --update-baseline.");
            return CouldNotRun;
        }

        var clock = Stopwatch.StartNew();
        var runs = new List<IReadOnlyList<MeasuredBenchmark>>();
        for (var run = 1; run <= options.Runs; run++)
        {
            Console.WriteLine($"// CI pass {run} of {options.Runs}");
            runs.Add(RunOnce(options, only: null));
        }

        var (measured, unstable) = MedianOf(runs);
        var recorded = string.Create(CultureInfo.InvariantCulture,
            $"median of {options.Runs} CI run(s), {DateTime.UtcNow:yyyy-MM-dd}, {HostEnvironmentInfo.GetCurrent().Cpu.Value.ProcessorName}, {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}");
        var results = Baseline.Create(recorded, measured.Where(static b => b.Figures is not null).Select(static b => KeyValuePair.Create(b.Name, b.Figures!)));
        results.Save(Path.Combine(options.ArtifactsPath, "ci-results.json"));

        var baseline = File.Exists(options.BaselinePath) ? Baseline.Load(options.BaselinePath) : new Baseline();
        var comparison = RegressionCheck.Compare(baseline, measured);
        if (!options.UpdateBaseline)
        {
            comparison = Confirm(options, comparison);
        }

        Console.WriteLine();
        Console.WriteLine($"// * CI benchmark check * against {options.BaselinePath}");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"// Time fails above {RegressionCheck.MaxSlowdown}x the baseline's mean; allocations must match (per-class tolerances in the code). {clock.Elapsed.TotalSeconds:0} s in all."));
        ComparisonTable.Print(Console.Out, comparison, options.UpdateBaseline);
        foreach (var name in unstable)
        {
            Console.WriteLine($"UNSTABLE {name}: its allocations differed between runs, and it has no allocation tolerance");
        }

        if (options.UpdateBaseline)
        {
            if (unstable.Count > 0 || measured.Any(static b => b.Figures is null))
            {
                Console.Error.WriteLine("Baseline not written: every benchmark must run, with the same allocations in every run.");
                return CouldNotRun;
            }

            results.Save(options.BaselinePath);
            Console.WriteLine($"Baseline written to {options.BaselinePath} ({results.Benchmarks.Count} benchmarks): commit it with the change that explains it.");
            return Passed;
        }

        return comparison.All(static row => row.Passed) && unstable.Count == 0 ? Passed : Regressed;
    }

    /// <summary>One BenchmarkDotNet pass over the subset, or over the benchmarks named in <paramref name="only"/>.</summary>
    private static List<MeasuredBenchmark> RunOnce(CiOptions options, IReadOnlySet<string>? only) =>
        [.. BenchmarkRunner.Run(CiSubset.Types, CiConfig.Create(options.ArtifactsPath, only)).SelectMany(Measure)];

    /// <summary>
    /// Reruns the benchmarks that failed only in ways noise can cause, up to <see cref="Reruns"/>
    /// times, and keeps the first passing figures. Another process taking the cores for a few
    /// seconds slows one pass; a regression slows every pass, so it still fails.
    /// </summary>
    private static IReadOnlyList<Comparison> Confirm(CiOptions options, IReadOnlyList<Comparison> comparison)
    {
        var rows = comparison.ToList();
        for (var attempt = 2; attempt <= 1 + Reruns; attempt++)
        {
            var suspects = rows.Where(static row => !row.Passed && row.Noisy).Select(static row => row.Name).ToHashSet(StringComparer.Ordinal);
            if (suspects.Count == 0)
            {
                break;
            }

            MachineLoad.WaitForQuiet(QuietWaitLimit, Console.Out);
            Console.WriteLine($"// Rerunning {suspects.Count} benchmark(s) that failed only as noise can (attempt {attempt} of {1 + Reruns}): {string.Join(", ", suspects)}");
            var again = RunOnce(options, suspects).ToDictionary(static benchmark => benchmark.Name, StringComparer.Ordinal);
            for (var i = 0; i < rows.Count; i++)
            {
                if (suspects.Contains(rows[i].Name) && again.TryGetValue(rows[i].Name, out var benchmark))
                {
                    rows[i] = RegressionCheck.Check(rows[i].Baseline, benchmark) with { Attempt = attempt };
                }
            }
        }

        return rows;
    }

    /// <summary>Every benchmark case of one summary, with its figures or null if it did not produce them.</summary>
    private static IEnumerable<MeasuredBenchmark> Measure(Summary summary)
    {
        foreach (var benchmark in summary.BenchmarksCases)
        {
            var report = summary[benchmark];
            var figures = report is { Success: true, ResultStatistics: { } statistics } && report.GcStats.GetBytesAllocatedPerOperation(benchmark) is { } allocated
                ? new BenchmarkFigures(Math.Round(statistics.Mean, 3), allocated)
                : null;
            var tolerance = benchmark.Descriptor.Type.GetCustomAttributes(typeof(AllocationToleranceAttribute), false)
                .Cast<AllocationToleranceAttribute>().SingleOrDefault()?.Bytes ?? 0;
            yield return new MeasuredBenchmark(FullNameProvider.GetBenchmarkName(benchmark), figures, tolerance);
        }
    }

    /// <summary>
    /// Each benchmark's median mean and median allocations over the runs (failed if it failed in
    /// any), and the names of those without an allocation tolerance whose allocations differed.
    /// </summary>
    private static (List<MeasuredBenchmark> Measured, List<string> Unstable) MedianOf(List<IReadOnlyList<MeasuredBenchmark>> runs)
    {
        var measured = new List<MeasuredBenchmark>();
        var unstable = new List<string>();
        foreach (var group in runs.SelectMany(static run => run).GroupBy(static b => b.Name, StringComparer.Ordinal))
        {
            var first = group.First();
            var all = group.Select(static b => b.Figures).ToList();
            if (all.Count != runs.Count || all.Any(static f => f is null))
            {
                measured.Add(first with { Figures = null });
                continue;
            }

            var figures = all.Select(static f => f!).ToList();
            if (first.AllocationTolerance == 0 && figures.Select(static f => f.AllocatedBytes).Distinct().Count() > 1)
            {
                unstable.Add(first.Name);
            }

            measured.Add(first with { Figures = new BenchmarkFigures(Median(figures.Select(static f => f.MeanNs)), (long)Median(figures.Select(static f => (double)f.AllocatedBytes))) });
        }

        return (measured, unstable);
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }
}

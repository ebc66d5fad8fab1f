using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace FProxy.Benchmarks.Ci;

/// <summary>
/// The configuration of the CI pass: <see cref="CiSubset"/>'s benchmarks, one short job, run
/// inside this process, artifacts outside the repository.
/// </summary>
/// <remarks>
/// In-process (InProcessEmitToolchain) because the default toolchain generates and builds a
/// project before it runs anything, about a minute on two cores, and the pass must stay short.
/// Two consequences. A job's environment variables only reach a child process (BenchmarkDotNet
/// sets them on the ProcessStartInfo it launches; in-process they are silently ignored), so
/// <see cref="BenchmarkConfig.InlineCompletions"/> must be set on this process by whoever starts
/// it, and <see cref="CiPass"/> refuses to run without it. And the memory diagnoser counts this
/// whole process, as it does a child's, so nothing changes there.
/// </remarks>
internal static class CiConfig
{
    /// <summary>The configuration; <paramref name="only"/>, when given, narrows the subset to those full names (a rerun).</summary>
    public static IConfig Create(string artifactsPath, IReadOnlySet<string>? only = null) => ManualConfig.Create(DefaultConfig.Instance)
        .AddJob(Job.Default
            .WithId("CI")
            .WithToolchain(InProcessEmitToolchain.Instance)
            .WithLaunchCount(1)
            .WithWarmupCount(4)
            .WithIterationCount(10)
            .WithIterationTime(TimeInterval.FromMilliseconds(200))
            .WithEvaluateOverhead(false))
        .AddDiagnoser(MemoryDiagnoser.Default)
        .AddFilter(new SimpleFilter(benchmark =>
            CiSubset.Includes(benchmark) && (only is null || only.Contains(FullNameProvider.GetBenchmarkName(benchmark)))))
        .WithArtifactsPath(artifactsPath);
}

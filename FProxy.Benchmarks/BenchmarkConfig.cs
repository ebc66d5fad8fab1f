using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace FProxy.Benchmarks;

/// <summary>The configuration every benchmark runs with, whatever job the command line picks.</summary>
internal static class BenchmarkConfig
{
    /// <summary>
    /// The host runs with socket completions inline (it halved CPU per connection in
    /// bench/compare.sh on the sockets transport, and DuplexPump's Inline pipe schedulers assume it), so the
    /// benchmark processes must too, or they would measure a different scheduling. The variable is
    /// read once at start-up by System.Net.Sockets, hence a job environment variable rather than
    /// Environment.SetEnvironmentVariable in a setup method. A mutator job changes every job the
    /// command line selects (--job short, ...) instead of adding one.
    /// </summary>
    public const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static IConfig Create() => DefaultConfig.Instance
        .AddJob(Job.Default.WithEnvironmentVariable(InlineCompletions, "1").AsMutator());
}

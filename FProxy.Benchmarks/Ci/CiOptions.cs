using System.Globalization;

namespace FProxy.Benchmarks.Ci;

/// <summary>
/// The command line of the CI pass: <c>--ci [--update-baseline] [--runs N] [--baseline FILE] [--artifacts DIR]</c>.
/// </summary>
internal sealed class CiOptions
{
    public const string Flag = "--ci";

    public const string Usage =
        "--ci [--update-baseline] [--runs N] [--baseline FILE] [--artifacts DIR]\n" +
        "  --update-baseline  write the median of the runs as the new baseline instead of checking\n" +
        "  --runs N           passes to take the median of (default 1; 3 with --update-baseline)\n" +
        "  --baseline FILE    default: baseline/ci-baseline.json in the FProxy.Benchmarks project\n" +
        "  --artifacts DIR    BenchmarkDotNet's output (default: fproxy-benchmarks-ci in $TMPDIR)";

    /// <summary>Write the baseline rather than compare with it.</summary>
    public bool UpdateBaseline { get; private init; }

    /// <summary>Passes run; each benchmark's figures are the median over them.</summary>
    public int Runs { get; private init; }

    public required string BaselinePath { get; init; }

    public required string ArtifactsPath { get; init; }

    /// <summary>Whether <paramref name="args"/> asks for the CI pass rather than BenchmarkDotNet's own command line.</summary>
    public static bool IsRequested(string[] args) => args.Contains(Flag, StringComparer.Ordinal);

    /// <summary>Reads the options; throws <see cref="ArgumentException"/> on anything it does not know.</summary>
    public static CiOptions Parse(string[] args)
    {
        var update = false;
        int? runs = null;
        string? baseline = null;
        string? artifacts = null;
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case Flag:
                    break;
                case "--update-baseline":
                    update = true;
                    break;
                case "--runs":
                    runs = int.TryParse(Value(args, ref i), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 20
                        ? n
                        : throw new ArgumentException("--runs takes a number from 1 to 20.");
                    break;
                case "--baseline":
                    baseline = Value(args, ref i);
                    break;
                case "--artifacts":
                    artifacts = Value(args, ref i);
                    break;
                default:
                    throw new ArgumentException($"Unknown option '{args[i]}'.");
            }
        }

        return new CiOptions
        {
            UpdateBaseline = update,
            Runs = runs ?? (update ? 3 : 1),
            BaselinePath = Path.GetFullPath(baseline ?? DefaultBaselinePath()),
            ArtifactsPath = Path.GetFullPath(artifacts ?? Path.Combine(Path.GetTempPath(), "fproxy-benchmarks-ci")),
        };
    }

    private static string Value(string[] args, ref int i) =>
        ++i < args.Length ? args[i] : throw new ArgumentException($"{args[i - 1]} needs a value.");

    /// <summary>
    /// The committed baseline, found from the program's own location (bin/Release/net10.0 under the
    /// project), so the pass finds it whatever the working directory.
    /// </summary>
    private static string DefaultBaselinePath()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "FProxy.Benchmarks.csproj")))
            {
                return Path.Combine(directory.FullName, "baseline", "ci-baseline.json");
            }
        }

        throw new ArgumentException("Cannot find the FProxy.Benchmarks project above the program: pass --baseline FILE.");
    }
}

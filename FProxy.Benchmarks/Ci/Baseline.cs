using System.Text.Json;
using System.Text.Json.Serialization;

namespace FProxy.Benchmarks.Ci;

/// <summary>
/// The committed figures the CI pass compares against (FProxy.Benchmarks/baseline/ci-baseline.json):
/// full benchmark name to mean and allocations, written in ordinal name order so that a new
/// baseline is a readable diff.
/// </summary>
internal sealed class Baseline
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>How and where the figures were recorded (machine, runtime, runs, date).</summary>
    public string? Recorded { get; init; }

    public Dictionary<string, BenchmarkFigures> Benchmarks { get; init; } = [];

    public static Baseline Create(string recorded, IEnumerable<KeyValuePair<string, BenchmarkFigures>> benchmarks) => new()
    {
        Recorded = recorded,
        Benchmarks = benchmarks.OrderBy(static pair => pair.Key, StringComparer.Ordinal).ToDictionary(),
    };

    public static Baseline Load(string path)
    {
        using var stream = File.OpenRead(path);
        return JsonSerializer.Deserialize<Baseline>(stream, Json)
            ?? throw new InvalidDataException($"{path} holds no baseline.");
    }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
    }
}

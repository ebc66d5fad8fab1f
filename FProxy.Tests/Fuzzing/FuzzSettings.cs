using System.Globalization;
using CsCheck;

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// How long the fuzz properties run, from the environment. Unset, every property runs a fixed
/// number of inputs from a fixed seed: the short seeded pass of every <c>dotnet test</c>, the
/// same inputs on every run. <c>FPROXY_FUZZ_SECONDS</c> turns it into a long run (bench/fuzz.sh).
/// </summary>
internal static class FuzzSettings
{
    /// <summary>Seconds each target's property runs for; unset or 0 for the seeded pass.</summary>
    public const string SecondsVariable = "FPROXY_FUZZ_SECONDS";

    /// <summary>
    /// Where the inputs start: a seed as a failure prints it (12 or more characters; the input
    /// that failed comes first, so a failure is replayed with its seed), or a whole number of
    /// fewer than 12 digits (what bench/fuzz.sh passes, so that it can say how to repeat a run).
    /// </summary>
    public const string SeedVariable = "FPROXY_FUZZ_SEED";

    // Any fixed stream and seed: the seeded pass only needs the same inputs on every run.
    private const uint Stream = 13;
    private const ulong FixedSeed = 20_261_126;

    /// <summary>Seconds for a long run, or null for the seeded pass.</summary>
    public static int? Seconds { get; } = ReadSeconds();

    /// <summary>The generator state the run starts from: the variable's, else fixed for the seeded pass and random for a long run.</summary>
    public static PCG Start()
    {
        var text = Environment.GetEnvironmentVariable(SeedVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return Seconds is null ? new PCG(Stream, FixedSeed) : new PCG(Stream, (ulong)Random.Shared.NextInt64());
        }

        text = text.Trim();
        if (text.Length < 12 && ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return new PCG(Stream, number);
        }

        try
        {
            return PCG.Parse(text);
        }
        catch (Exception e) when (e is CsCheckException or IndexOutOfRangeException)
        {
            throw new InvalidOperationException($"{SeedVariable}=\"{text}\" is neither a seed a fuzz failure printed nor a whole number", e);
        }
    }

    private static int? ReadSeconds()
    {
        var text = Environment.GetEnvironmentVariable(SecondsVariable);
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds))
        {
            throw new InvalidOperationException($"{SecondsVariable}=\"{text}\" is not a whole number of seconds");
        }

        return seconds == 0 ? null : seconds;
    }
}

using System.Globalization;

namespace FProxy.FTest.Net;

/// <summary>FProxy's duration syntax ("250ms", "5s", "1m", "1h") for options, and short readable forms for reports.</summary>
internal static class Durations
{
    public const string Expected = "expected a positive integer followed by ms, s, m or h, e.g. \"250ms\", \"5s\", \"1m\"";

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = default;
        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }

        long unit = text.AsSpan(digits) switch
        {
            "ms" => TimeSpan.TicksPerMillisecond,
            "s" => TimeSpan.TicksPerSecond,
            "m" => TimeSpan.TicksPerMinute,
            "h" => TimeSpan.TicksPerHour,
            _ => 0,
        };
        if (digits == 0 || digits > 9 || unit == 0
            || !long.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count == 0)
        {
            return false;
        }

        value = TimeSpan.FromTicks(count * unit);
        return true;
    }

    /// <summary>"5s", "250ms", "1m": the option syntax back, for messages.</summary>
    public static string Format(TimeSpan value) => value.Ticks switch
    {
        var t when t > 0 && t % TimeSpan.TicksPerMinute == 0 => Invariant(t / TimeSpan.TicksPerMinute) + "m",
        var t when t > 0 && t % TimeSpan.TicksPerSecond == 0 => Invariant(t / TimeSpan.TicksPerSecond) + "s",
        var t when t > 0 && t % TimeSpan.TicksPerMillisecond == 0 => Invariant(t / TimeSpan.TicksPerMillisecond) + "ms",
        _ => Milliseconds(value),
    };

    /// <summary>Latency as reports show it: milliseconds with enough digits for loopback ("0.084ms", "12.3ms").</summary>
    public static string Milliseconds(TimeSpan value)
    {
        var ms = value.TotalMilliseconds;
        var format = ms < 1 ? "0.###" : ms < 100 ? "0.0#" : "0";
        return ms.ToString(format, CultureInfo.InvariantCulture) + "ms";
    }

    private static string Invariant(long n) => n.ToString(CultureInfo.InvariantCulture);
}

using System.Globalization;

namespace FProxy.Configuration;

/// <summary>
/// The config file's duration syntax: a positive integer followed by a unit, <c>ms</c>, <c>s</c>,
/// <c>m</c> or <c>h</c> ("250ms", "5s", "1m", "2h"). Deliberately strict: no spaces, signs,
/// fractions, bare numbers or compound forms, so a typo is an error rather than a surprise.
/// </summary>
internal static class Duration
{
    /// <summary>What a duration looks like, for error messages.</summary>
    public const string Expected = "expected a positive integer followed by ms, s, m or h, e.g. \"250ms\", \"5s\", \"1m\"";

    /// <summary>Parses <paramref name="text"/>; false when it is not exactly a duration.</summary>
    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = default;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var digits = 0;
        while (digits < text.Length && char.IsAsciiDigit(text[digits]))
        {
            digits++;
        }

        if (digits == 0)
        {
            return false;
        }

        long unitTicks = text.AsSpan(digits) switch
        {
            "ms" => TimeSpan.TicksPerMillisecond,
            "s" => TimeSpan.TicksPerSecond,
            "m" => TimeSpan.TicksPerMinute,
            "h" => TimeSpan.TicksPerHour,
            _ => 0,
        };

        if (unitTicks == 0
            || !long.TryParse(text.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out var count)
            || count <= 0
            || count > TimeSpan.MaxValue.Ticks / unitTicks)
        {
            return false;
        }

        value = TimeSpan.FromTicks(count * unitTicks);
        return true;
    }

    /// <summary>
    /// The shortest form of <paramref name="value"/> in the config syntax ("5s" rather than
    /// "5000ms"), for logs and docs. Values the syntax cannot express (zero, negative, below a
    /// millisecond) still get a readable form such as "0s", "-5s" or "0.5ms".
    /// </summary>
    public static string Format(TimeSpan value)
    {
        if (value == TimeSpan.Zero)
        {
            return "0s";
        }

        if (value < TimeSpan.Zero)
        {
            return value == TimeSpan.MinValue ? value.ToString("c", CultureInfo.InvariantCulture) : "-" + Format(value.Negate());
        }

        var ticks = value.Ticks;
        return ticks switch
        {
            _ when ticks % TimeSpan.TicksPerHour == 0 => Invariant(ticks / TimeSpan.TicksPerHour, "h"),
            _ when ticks % TimeSpan.TicksPerMinute == 0 => Invariant(ticks / TimeSpan.TicksPerMinute, "m"),
            _ when ticks % TimeSpan.TicksPerSecond == 0 => Invariant(ticks / TimeSpan.TicksPerSecond, "s"),
            _ when ticks % TimeSpan.TicksPerMillisecond == 0 => Invariant(ticks / TimeSpan.TicksPerMillisecond, "ms"),
            _ => value.TotalMilliseconds.ToString(CultureInfo.InvariantCulture) + "ms",
        };
    }

    private static string Invariant(long count, string unit) => count.ToString(CultureInfo.InvariantCulture) + unit;
}

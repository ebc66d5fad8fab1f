using System.Globalization;
using FProxy.Configuration;

namespace FProxy.FTest.Net;

/// <summary>FProxy's duration syntax ("250ms", "5s", "1m", "1h") for options, and short readable forms for reports.</summary>
internal static class Durations
{
    public const string Expected = Duration.Expected;

    /// <summary>The config file's syntax: FProxy.Core's own parser.</summary>
    public static bool TryParse(string text, out TimeSpan value) => Duration.TryParse(text, out value);

    /// <summary>"5s", "250ms", "1m": the option syntax back, for messages.</summary>
    public static string Format(TimeSpan value) => Duration.Format(value);

    /// <summary>Latency as reports show it: milliseconds with enough digits for loopback ("0.084ms", "12.3ms").</summary>
    public static string Milliseconds(TimeSpan value)
    {
        var ms = value.TotalMilliseconds;
        var format = ms < 1 ? "0.###" : ms < 100 ? "0.0#" : "0";
        return ms.ToString(format, CultureInfo.InvariantCulture) + "ms";
    }

}

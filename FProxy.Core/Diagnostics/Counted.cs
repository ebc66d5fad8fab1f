using System.Globalization;

namespace FProxy.Diagnostics;

/// <summary>"1 app", "3 apps": counts in messages (logs, ftest), which are read by people as often as by scripts.</summary>
internal static class Counted
{
    public static string Of(long count, string noun) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + (count == 1 ? noun : noun + "s");
}

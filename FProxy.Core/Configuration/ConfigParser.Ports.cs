using System.Globalization;
using System.Text.Json;

namespace FProxy.Configuration;

/// <content>Reading an app's ports: numbers, and ranges written as strings ("6000-6099").</content>
public static partial class ConfigParser
{
    /// <summary>
    /// The app's <c>"Ports"</c>, ranges expanded in order. Each entry is checked on its own (a
    /// number or a range of at most <see cref="ConfigLimits.MaxPortRange"/> ports); a port listed
    /// twice, or already another app's, is reported once per entry, with how many more like it,
    /// so that two overlapping ranges make one line, not thousands.
    /// </summary>
    private static List<int>? ReadPorts(
        Dictionary<string, JsonElement> keys, string owner, Dictionary<long, string> portOwners, List<string> problems)
    {
        if (!TryGetNonEmptyArray(keys, "Ports", string.Empty, "an array of ports and port ranges like [5001, \"6000-6099\"]", required: true, problems, out var array))
        {
            return null;
        }

        var ports = new List<int>();
        var seen = new HashSet<int>();
        var reported = new HashSet<int>(); // Single ports already reported as listed twice.
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (ReadPortEntry(item, index, problems) is var (first, last) && first > 0)
            {
                int repeated = 0, taken = 0, firstRepeated = 0, firstTaken = 0;
                string? takenBy = null;
                for (var port = first; port <= last; port++)
                {
                    if (!seen.Add(port))
                    {
                        firstRepeated = repeated++ == 0 ? port : firstRepeated;
                    }
                    else if (!portOwners.TryAdd(port, owner))
                    {
                        firstTaken = taken++ == 0 ? port : firstTaken;
                        takenBy ??= portOwners[port];
                    }
                    else
                    {
                        ports.Add(port);
                    }
                }

                var entry = first == last ? string.Empty : $"Ports[{index}]: ";
                if (repeated > 0 && (first != last || reported.Add(first)))
                {
                    problems.Add(entry + $"port {firstRepeated} is listed twice" + More(repeated));
                }

                if (taken > 0)
                {
                    problems.Add(entry + $"port {firstTaken} is already used by {takenBy}" + More(taken));
                }
            }

            index++;
        }

        return ports;
    }

    /// <summary>" (and 9 more)" after the first of <paramref name="count"/>; nothing for one.</summary>
    private static string More(int count) =>
        count == 1 ? string.Empty : string.Create(CultureInfo.InvariantCulture, $" (and {count - 1} more)");

    /// <summary>One entry of <c>"Ports"</c>: (port, port) for a number, (first, last) for a range; (0, 0) with a problem when invalid.</summary>
    private static (int First, int Last) ReadPortEntry(JsonElement item, int index, List<string> problems)
    {
        if (TryGetWholeNumber(item, out var port))
        {
            if (port is < 1 or > ConfigLimits.MaxPort)
            {
                problems.Add(ConfigValidator.PortOutOfRange(index, item.GetRawText()));
                return (0, 0);
            }

            return ((int)port, (int)port);
        }

        var text = item.ValueKind == JsonValueKind.String ? item.GetString()! : null;
        var dash = text?.IndexOf('-', StringComparison.Ordinal) ?? -1;
        if (text is null || dash < 0 || !TryPortNumber(text.AsSpan(0, dash), out var first) || !TryPortNumber(text.AsSpan(dash + 1), out var last))
        {
            problems.Add($"Ports[{index}]: expected a port (an integer) or a range like \"6000-6099\", got {Show(item)}");
            return (0, 0);
        }

        if (first is < 1 or > ConfigLimits.MaxPort || last is < 1 or > ConfigLimits.MaxPort)
        {
            problems.Add($"Ports[{index}]: range \"{text}\" is outside 1..{ConfigLimits.MaxPort}");
            return (0, 0);
        }

        if (first > last)
        {
            problems.Add($"Ports[{index}]: range \"{text}\" runs backwards (write \"{last}-{first}\")");
            return (0, 0);
        }

        if (last - first + 1 > ConfigLimits.MaxPortRange)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"Ports[{index}]: range \"{text}\" has {last - first + 1:N0} ports, more than the {ConfigLimits.MaxPortRange:N0} a range may have"));
            return (0, 0);
        }

        return (first, last);
    }

    /// <summary>Plain digits, no sign or spaces, at most 5 of them.</summary>
    private static bool TryPortNumber(ReadOnlySpan<char> text, out int port) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port) && text.Length <= 5;
}

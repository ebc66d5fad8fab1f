using System.Text.Json;

namespace FProxy.Configuration;

/// <content>
/// Readers shared by every part of an app: lists, integers and durations with their bounds,
/// on/off switches, and the places that messages name.
/// </content>
public static partial class ConfigParser
{
    /// <summary>
    /// <paramref name="message"/> about an object at <paramref name="place"/> (<c>Rules[1]</c>,
    /// <c>Rules[1].Match</c>); the app itself is the empty place, which its prefix already names.
    /// </summary>
    private static string At(string place, string message) => place.Length == 0 ? message : $"{place}: {message}";

    /// <summary>The place of one entry of a list: <c>Targets[0]</c>, <c>Rules[1].Match.Ports[0]</c>.</summary>
    private static string Item(string place, string key, int index) =>
        place.Length == 0 ? $"{key}[{index}]" : $"{place}.{key}[{index}]";

    /// <summary>Reads an object's keys, reporting unknown and repeated ones as problems at <paramref name="place"/>.</summary>
    private static Dictionary<string, JsonElement> ReadKeys(JsonElement obj, IReadOnlyList<string> known, string place, List<string> problems)
    {
        var found = new List<string>();
        var keys = JsonKeys.Read(obj, known, string.Empty, found);
        foreach (var problem in found)
        {
            problems.Add(At(place, problem));
        }

        return keys;
    }

    /// <summary>
    /// The array under <paramref name="key"/>, when present, an array and not empty; otherwise
    /// false, with a problem unless the key is absent and not <paramref name="required"/>.
    /// </summary>
    private static bool TryGetNonEmptyArray(
        Dictionary<string, JsonElement> keys,
        string key,
        string place,
        string expected,
        bool required,
        List<string> problems,
        out JsonElement array)
    {
        if (!keys.TryGetValue(key, out array))
        {
            if (required)
            {
                problems.Add(At(place, $"missing \"{key}\""));
            }

            return false;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            problems.Add(At(place, $"\"{key}\" must be {expected}, got {Show(array)}"));
            return false;
        }

        if (array.GetArrayLength() == 0)
        {
            problems.Add(At(place, $"\"{key}\" is empty"));
            return false;
        }

        return true;
    }

    /// <summary>An integer in <paramref name="min"/>..<paramref name="max"/>; null when absent or invalid (then with a problem).</summary>
    /// <param name="keys">The object's keys.</param>
    /// <param name="key">The key to read.</param>
    /// <param name="label">How messages name it, e.g. <c>KeepAlive.Count</c>.</param>
    /// <param name="min">The smallest value allowed.</param>
    /// <param name="max">The largest value allowed.</param>
    /// <param name="problems">Receives the problem, if any.</param>
    private static int? ReadInteger(Dictionary<string, JsonElement> keys, string key, string label, int min, int max, List<string> problems)
    {
        if (!keys.TryGetValue(key, out var element))
        {
            return null;
        }

        if (!TryGetWholeNumber(element, out var value))
        {
            problems.Add($"\"{label}\" must be an integer, got {Show(element)}");
            return null;
        }

        if (value < min || value > max)
        {
            problems.Add($"\"{label}\": {element.GetRawText()} is outside {min}..{max}");
            return null;
        }

        return (int)value;
    }

    private static TimeSpan ReadTimeout(Dictionary<string, JsonElement> keys, string key, TimeSpan defaultValue, List<string> problems) =>
        ReadDuration(keys, key, key, TimeSpan.Zero, problems) ?? defaultValue;

    /// <summary>
    /// A duration from <paramref name="min"/> to <see cref="ConfigLimits.MaxTimeout"/>; null when absent or
    /// invalid (then with a problem).
    /// </summary>
    /// <param name="keys">The object's keys.</param>
    /// <param name="key">The key to read.</param>
    /// <param name="label">How messages name it, e.g. <c>HealthCheck.Interval</c>.</param>
    /// <param name="min">The shortest value allowed; <see cref="TimeSpan.Zero"/> for any (a duration is always positive).</param>
    /// <param name="problems">Receives the problem, if any.</param>
    private static TimeSpan? ReadDuration(Dictionary<string, JsonElement> keys, string key, string label, TimeSpan min, List<string> problems)
    {
        return keys.TryGetValue(key, out var element) && TryReadDuration(element, label, problems, out var value)
            && IsWithinBounds(element, value, label, min, string.Empty, problems)
            ? value
            : null;
    }

    /// <summary>
    /// Whether <paramref name="value"/> (read from <paramref name="element"/>) lies from
    /// <paramref name="min"/> to <see cref="ConfigLimits.MaxTimeout"/>; if not, adds a problem, with
    /// <paramref name="why"/> after the minimum when it is too short.
    /// </summary>
    /// <param name="element">The value as written, for the message.</param>
    /// <param name="value">The duration it gives.</param>
    /// <param name="label">How messages name it.</param>
    /// <param name="min">The shortest value allowed.</param>
    /// <param name="why">Why the minimum, e.g. <c>: idle connections are checked about once a second</c>; empty for none.</param>
    /// <param name="problems">Receives the problem, if any.</param>
    private static bool IsWithinBounds(JsonElement element, TimeSpan value, string label, TimeSpan min, string why, List<string> problems)
    {
        if (value < min)
        {
            problems.Add($"\"{label}\": {Show(element)} is too short (at least {Duration.Format(min)}{why})");
            return false;
        }

        if (value > ConfigLimits.MaxTimeout)
        {
            problems.Add($"\"{label}\": {Show(element)} is too long (at most {Duration.Format(ConfigLimits.MaxTimeout)})");
            return false;
        }

        return true;
    }

    private static bool TryReadDuration(JsonElement element, string label, List<string> problems, out TimeSpan value)
    {
        value = default;
        if (element.ValueKind == JsonValueKind.String && Duration.TryParse(element.GetString(), out value))
        {
            return true;
        }

        problems.Add($"\"{label}\": {Show(element)} is not a duration ({Duration.Expected})");
        return false;
    }

    /// <summary>True for <c>true</c> and <c>"on"</c>, false for <c>false</c> and <c>"off"</c> (any case), null for anything else.</summary>
    private static bool? ReadSwitch(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.String when string.Equals(element.GetString(), "on", StringComparison.OrdinalIgnoreCase) => true,
        JsonValueKind.String when string.Equals(element.GetString(), "off", StringComparison.OrdinalIgnoreCase) => false,
        _ => null,
    };

    /// <summary>
    /// A name a plug-in registered (a strategy, a probe kind), in its registered spelling; null
    /// with a problem listing the valid names when <paramref name="element"/> is not one.
    /// </summary>
    /// <param name="element">The value given.</param>
    /// <param name="label">What messages call the value: <c>"Strategy"</c> or <c>Rules[0]: "Strategy"</c>.</param>
    /// <param name="kind">What the name names: "strategy" or "probe".</param>
    /// <param name="kinds">The plural: "strategies" or "probes".</param>
    /// <param name="names">The valid names.</param>
    /// <param name="find">Looks a name up, ignoring case.</param>
    /// <param name="problems">Receives the problem, if any.</param>
    private static string? ReadRegisteredName(
        JsonElement element, string label, string kind, string kinds, IReadOnlyList<string> names, Func<string, string?> find, List<string> problems)
    {
        var valid = names.Count == 0 ? $"no {kinds} are registered" : $"valid {kinds}: {string.Join(", ", names)}";
        if (element.ValueKind != JsonValueKind.String)
        {
            problems.Add($"{label} must be a string, got {Show(element)}; {valid}");
            return null;
        }

        var name = element.GetString()!;
        if (find(name) is { } canonical)
        {
            return canonical;
        }

        problems.Add(ConfigValidator.UnknownName(label, kind, kinds, name, names));
        return null;
    }
}

using System.Text.Json;

namespace FProxy.Configuration;

/// <content>Reading an app's connection limits (<c>MaxConnections</c>, <c>MaxConnectionsPerSource</c>, <c>MaxPeekingConnections</c>, <c>IdleTimeout</c>) and its access log switch.</content>
public static partial class ConfigParser
{
    /// <summary>The app's <c>"AccessLog"</c>: true or false, false when absent.</summary>
    private static bool ReadAccessLog(Dictionary<string, JsonElement> keys, List<string> problems)
    {
        if (!keys.TryGetValue("AccessLog", out var element))
        {
            return false;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            default:
                problems.Add($"\"AccessLog\" must be true or false, got {Show(element)}");
                return false;
        }
    }

    /// <summary>
    /// One of the app's connection limits (<c>"MaxConnections"</c>, <c>"MaxConnectionsPerSource"</c>,
    /// <c>"MaxPeekingConnections"</c>): <paramref name="absent"/> when the key is absent, null (no
    /// limit) when it is null, else a count, or invalid (then with a problem).
    /// </summary>
    private static int? ReadConnectionLimit(Dictionary<string, JsonElement> keys, string key, int? absent, List<string> problems)
    {
        if (!keys.TryGetValue(key, out var element))
        {
            return absent;
        }

        if (element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (!TryGetWholeNumber(element, out _))
        {
            problems.Add($"\"{key}\" must be an integer (or null for no limit), got {Show(element)}");
            return null;
        }

        return ReadInteger(keys, key, key, 1, ConfigLimits.MaxConnections, problems);
    }

    /// <summary>
    /// The app's <c>"IdleTimeout"</c>: null (off) when absent, null or <c>"off"</c> (any case),
    /// or invalid (then with a problem).
    /// </summary>
    private static TimeSpan? ReadIdleTimeout(Dictionary<string, JsonElement> keys, List<string> problems)
    {
        if (!keys.TryGetValue("IdleTimeout", out var element)
            || element.ValueKind == JsonValueKind.Null
            || (element.ValueKind == JsonValueKind.String && string.Equals(element.GetString(), "off", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String || !Duration.TryParse(element.GetString(), out var value))
        {
            problems.Add($"\"IdleTimeout\": {Show(element)} is not a duration or \"off\" ({Duration.Expected})");
            return null;
        }

        return IsWithinBounds(element, value, "IdleTimeout", ConfigLimits.MinIdleTimeout, ConfigLimits.IdleTimeoutWhy, problems)
            ? value
            : null;
    }
}

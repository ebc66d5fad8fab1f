using System.Text.Json;

namespace FProxy.Configuration;

/// <content>Reading an app's PROXY protocol settings: the header it sends, and the one it accepts.</content>
public static partial class ConfigParser
{
    /// <summary>
    /// <c>"ProxyProtocol"</c> of an app or a rule: <c>"v1"</c>, <c>"v2"</c> or <c>"off"</c> (any
    /// case); null when absent (a rule then inherits the app's) or invalid (with a problem).
    /// </summary>
    private static ProxyProtocolVersion? ReadProxyProtocol(Dictionary<string, JsonElement> keys, string place, List<string> problems)
    {
        if (!keys.TryGetValue("ProxyProtocol", out var element))
        {
            return null;
        }

        var text = element.ValueKind == JsonValueKind.String ? element.GetString() : null;
        if (string.Equals(text, "v1", StringComparison.OrdinalIgnoreCase))
        {
            return ProxyProtocolVersion.V1;
        }

        if (string.Equals(text, "v2", StringComparison.OrdinalIgnoreCase))
        {
            return ProxyProtocolVersion.V2;
        }

        if (string.Equals(text, "off", StringComparison.OrdinalIgnoreCase))
        {
            return ProxyProtocolVersion.None;
        }

        problems.Add(At(place, $"\"ProxyProtocol\" must be \"v1\", \"v2\" or \"off\", got {Show(element)}"));
        return null;
    }

    /// <summary><c>"AcceptProxyProtocol"</c>: true or false, false when absent.</summary>
    private static bool ReadAcceptProxyProtocol(Dictionary<string, JsonElement> keys, List<string> problems)
    {
        if (!keys.TryGetValue("AcceptProxyProtocol", out var element))
        {
            return false;
        }

        if (element.ValueKind is JsonValueKind.True or JsonValueKind.False)
        {
            return element.GetBoolean();
        }

        problems.Add($"\"AcceptProxyProtocol\" must be true or false, got {Show(element)}");
        return false;
    }

    /// <summary>
    /// <c>"TrustedProxies"</c>: CIDR ranges in canonical form, empty when absent; null when invalid,
    /// or when given without <c>"AcceptProxyProtocol": true</c> (it would protect nothing).
    /// </summary>
    private static List<string>? ReadTrustedProxies(Dictionary<string, JsonElement> keys, bool accept, List<string> problems)
    {
        var ranges = ReadMatchList(keys, "TrustedProxies", string.Empty, "\"10.0.0.0/8\"", ReadCidr, problems);
        if (ranges is { Count: > 0 } && !accept)
        {
            problems.Add(ConfigValidator.TrustedProxiesWithoutAccept);
            return null;
        }

        return ranges;
    }
}

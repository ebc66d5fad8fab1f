using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace FProxy.Configuration;

/// <content>Reading an app's routing rules and their match criteria.</content>
public static partial class ConfigParser
{
    private static readonly string[] RuleKeys = ["Match", "Targets", "Strategy", "ProxyProtocol"];

    private static readonly string[] MatchKeys = ["SourceCidrs", "Ports", "Sni"];

    /// <summary>
    /// The app's <c>"Rules"</c>, empty when absent. <paramref name="appPorts"/> are the app's
    /// valid ports, which rules may match on; when there are none (its <c>"Ports"</c> is missing
    /// or wrong, already reported) rule ports are not checked against them.
    /// </summary>
    private static List<RuleConfig>? ReadRules(
        Dictionary<string, JsonElement> keys, List<int>? appPorts, ConfigSchema schema, List<string> problems)
    {
        if (!keys.TryGetValue("Rules", out var array))
        {
            return [];
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"\"Rules\" must be an array of rules like {{\"Match\": {{\"Sni\": [\"*.example.com\"]}}, \"Targets\": [\"host:port\"]}}, got {Show(array)}");
            return null;
        }

        var rules = new List<RuleConfig>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (ReadRule(item, $"Rules[{index}]", appPorts, schema, problems) is { } rule)
            {
                rules.Add(rule);
            }

            index++;
        }

        return rules;
    }

    private static RuleConfig? ReadRule(JsonElement rule, string place, List<int>? appPorts, ConfigSchema schema, List<string> problems)
    {
        if (rule.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{place}: must be an object, got {Show(rule)}");
            return null;
        }

        var keys = ReadKeys(rule, RuleKeys, place, problems);
        var match = ReadMatch(keys, place, appPorts, problems);
        var targets = ReadTargets(keys, place, problems);
        var strategy = keys.TryGetValue("Strategy", out var element) ? ReadStrategy(element, place, schema, problems) : null;
        var proxyProtocol = ReadProxyProtocol(keys, place, problems);
        return match is null || targets is null
            ? null
            : new RuleConfig { Match = match, Targets = new EquatableList<TargetConfig>(targets), Strategy = strategy, ProxyProtocol = proxyProtocol };
    }

    private static MatchConfig? ReadMatch(Dictionary<string, JsonElement> ruleKeys, string place, List<int>? appPorts, List<string> problems)
    {
        if (!ruleKeys.TryGetValue("Match", out var match))
        {
            problems.Add($"{place}: missing \"Match\"");
            return null;
        }

        if (match.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"{place}: \"Match\" must be an object like {{\"SourceCidrs\": [\"10.0.0.0/8\"], \"Ports\": [443], \"Sni\": [\"*.example.com\"]}}, got {Show(match)}");
            return null;
        }

        var matchPlace = place + ".Match";
        var keys = ReadKeys(match, MatchKeys, matchPlace, problems);
        if (keys.Count == 0)
        {
            // A rule without criteria would take every connection: the app's targets would be dead config.
            problems.Add($"{place}: \"Match\" has no criterion (give at least one of \"SourceCidrs\", \"Ports\" or \"Sni\")");
            return null;
        }

        var cidrs = ReadMatchList(keys, "SourceCidrs", matchPlace, "\"10.0.0.0/8\"", ReadCidr, problems);
        var ports = ReadMatchPorts(keys, matchPlace, appPorts, problems);
        var sni = ReadMatchList(keys, "Sni", matchPlace, "\"*.example.com\"", ReadSniPattern, problems);
        return cidrs is null || ports is null || sni is null
            ? null
            : new MatchConfig
            {
                SourceCidrs = new EquatableList<string>(cidrs),
                Ports = new EquatableList<int>(ports),
                Sni = new EquatableList<string>(sni),
            };
    }

    /// <summary>Checks one entry of a match list and gives its stored form, or why it is invalid.</summary>
    private delegate bool MatchEntryReader(string text, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? problem);

    /// <summary>
    /// A list of strings under <paramref name="key"/>, each checked and normalized by
    /// <paramref name="read"/>; empty when the key is absent, null when anything is wrong.
    /// </summary>
    private static List<string>? ReadMatchList(
        Dictionary<string, JsonElement> keys,
        string key,
        string place,
        string example,
        MatchEntryReader read,
        List<string> problems)
    {
        if (!TryGetNonEmptyArray(keys, key, place, "an array of strings like " + example, required: false, problems, out var array))
        {
            return keys.ContainsKey(key) ? null : [];
        }

        var values = new List<string>();
        var ok = true;
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var label = Item(place, key, index);
            if (item.ValueKind != JsonValueKind.String)
            {
                problems.Add($"{label}: expected a string like {example}, got {Show(item)}");
                ok = false;
            }
            else if (read(item.GetString()!, out var value, out var problem))
            {
                values.Add(value);
            }
            else
            {
                problems.Add($"{label}: {problem}");
                ok = false;
            }

            index++;
        }

        return ok ? values : null;
    }

    private static List<int>? ReadMatchPorts(Dictionary<string, JsonElement> keys, string place, List<int>? appPorts, List<string> problems)
    {
        if (!TryGetNonEmptyArray(keys, "Ports", place, "an array of integers", required: false, problems, out var array))
        {
            return keys.ContainsKey("Ports") ? null : [];
        }

        var ports = new List<int>();
        var ok = true;
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var label = Item(place, "Ports", index);
            if (!TryGetWholeNumber(item, out var port))
            {
                problems.Add($"{label}: expected an integer port, got {Show(item)}");
                ok = false;
            }
            else if (appPorts is { Count: > 0 } && (port is < 1 or > 65535 || !appPorts.Contains((int)port)))
            {
                // A connection only ever arrives on one of the app's ports: any other would never match.
                problems.Add($"{label}: {ConfigValidator.PortNotOfApp(item.GetRawText(), appPorts)}");
                ok = false;
            }
            else
            {
                ports.Add((int)port);
            }

            index++;
        }

        return ok ? ports : null;
    }

    /// <summary>A client address range, stored in canonical form (<c>10.0.0.0/8</c>, <c>fd00::/8</c>).</summary>
    private static bool ReadCidr(string text, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? problem)
    {
        if (CidrParser.TryParse(text, out var range, out problem))
        {
            value = range.ToString();
            return true;
        }

        value = null;
        problem ??= $"\"{text}\" is not a valid CIDR range";
        return false;
    }

    /// <summary>An SNI pattern, stored in lower case (SNI matching ignores case).</summary>
    private static bool ReadSniPattern(string text, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? problem)
    {
        if (SniPattern.IsValid(text, out problem))
        {
            value = text.ToLowerInvariant();
            return true;
        }

        value = null;
        problem ??= $"\"{text}\" is not a valid SNI pattern";
        return false;
    }
}

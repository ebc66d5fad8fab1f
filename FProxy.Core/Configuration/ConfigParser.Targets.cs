using System.Text.Json;

namespace FProxy.Configuration;

/// <content>Reading target lists (of an app or a rule) and strategy names.</content>
public static partial class ConfigParser
{
    private const string TargetForms = "\"host:port\" or an object like {\"Address\": \"host:port\", \"Weight\": 2}";

    private static readonly string[] TargetKeys = ["Address", "Weight"];

    /// <summary>
    /// The <c>"Targets"</c> of the object at <paramref name="place"/> (the app, or <c>Rules[i]</c>):
    /// required, not empty, each a string or an object with a weight, none listed twice.
    /// </summary>
    private static List<TargetConfig>? ReadTargets(Dictionary<string, JsonElement> keys, string place, List<string> problems)
    {
        if (!TryGetNonEmptyArray(keys, "Targets", place, "an array of targets, each " + TargetForms, required: true, problems, out var array))
        {
            return null;
        }

        var targets = new List<TargetConfig>();
        // Where each target was first listed, by identity (host ignoring case, and port).
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            var label = Item(place, "Targets", index);
            if (ReadTarget(item, label, problems) is { } target)
            {
                if (seen.TryGetValue(target.Key, out var first))
                {
                    problems.Add($"{label}: \"{target}\" is already listed as {first}");
                }
                else
                {
                    seen.Add(target.Key, label);
                    targets.Add(target);
                }
            }

            index++;
        }

        return targets;
    }

    /// <summary>One target: <c>"host:port"</c>, or <c>{"Address": "host:port", "Weight": 2}</c>.</summary>
    private static TargetConfig? ReadTarget(JsonElement item, string label, List<string> problems)
    {
        switch (item.ValueKind)
        {
            case JsonValueKind.String:
                return ParseTarget(item.GetString()!, label, problems);
            case JsonValueKind.Object:
                var keys = ReadKeys(item, TargetKeys, label, problems);
                TargetConfig? target = null;
                if (!keys.TryGetValue("Address", out var address))
                {
                    problems.Add($"{label}: missing \"Address\"");
                }
                else if (address.ValueKind != JsonValueKind.String)
                {
                    problems.Add($"{label}: \"Address\" must be a string like \"host:port\", got {Show(address)}");
                }
                else
                {
                    target = ParseTarget(address.GetString()!, label, problems);
                }

                var weightProblems = new List<string>();
                var weight = ReadInteger(keys, "Weight", "Weight", 1, TargetConfig.MaxWeight, weightProblems) ?? 1;
                foreach (var problem in weightProblems)
                {
                    problems.Add($"{label}: {problem}");
                }

                return target is null || weightProblems.Count > 0 ? null : target with { Weight = weight };
            default:
                problems.Add($"{label}: expected {TargetForms}, got {Show(item)}");
                return null;
        }
    }

    private static TargetConfig? ParseTarget(string text, string label, List<string> problems)
    {
        if (TargetParser.TryParse(text, out var target, out var problem))
        {
            return target;
        }

        problems.Add($"{label}: {problem}");
        return null;
    }

    /// <summary>The app's <c>"Strategy"</c>: absent or null means <see cref="AppConfig.DefaultStrategy"/>.</summary>
    private static string ReadAppStrategy(Dictionary<string, JsonElement> keys, ConfigSchema schema, List<string> problems) =>
        keys.TryGetValue("Strategy", out var element)
            ? ReadStrategy(element, string.Empty, schema, problems) ?? AppConfig.DefaultStrategy
            : AppConfig.DefaultStrategy;

    /// <summary>A strategy name in its registered spelling; null when null or invalid (then with a problem).</summary>
    private static string? ReadStrategy(JsonElement element, string place, ConfigSchema schema, List<string> problems) =>
        element.ValueKind == JsonValueKind.Null
            ? null
            : ReadRegisteredName(element, At(place, "\"Strategy\""), "strategy", "strategies", schema.Strategies, schema.FindStrategy, problems);
}

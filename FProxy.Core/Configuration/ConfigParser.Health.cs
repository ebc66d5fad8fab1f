using System.Text.Json;

namespace FProxy.Configuration;

/// <content>Reading an app's active health checks and passive health (ejection) settings.</content>
public static partial class ConfigParser
{
    private static readonly string[] HealthCheckKeys =
        ["Interval", "Timeout", "HealthyThreshold", "UnhealthyThreshold", "Send", "Expect", "Probe"];

    private static readonly string[] PassiveHealthKeys = ["ConsecutiveFailures", "BaseEjection", "MaxEjection"];

    /// <summary>The app's <c>"HealthCheck"</c>: null (no active checks) when absent, null, <c>"off"</c> or false.</summary>
    private static HealthCheckConfig? ReadHealthCheck(Dictionary<string, JsonElement> keys, ConfigSchema schema, List<string> problems)
    {
        if (!keys.TryGetValue("HealthCheck", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (ReadSwitch(element) is { } on)
        {
            return on ? new HealthCheckConfig() : null;
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            return ReadHealthCheckObject(element, schema, problems);
        }

        problems.Add($"\"HealthCheck\" must be \"on\", \"off\", true, false, null or an object like {{\"Interval\": \"5s\", \"Timeout\": \"1s\"}}, got {Show(element)}");
        return null;
    }

    private static HealthCheckConfig? ReadHealthCheckObject(JsonElement element, ConfigSchema schema, List<string> problems)
    {
        var before = problems.Count;
        var keys = JsonKeys.Read(element, HealthCheckKeys, " in \"HealthCheck\"", problems);
        var interval = ReadDuration(keys, "Interval", "HealthCheck.Interval", ConfigLimits.MinHealthCheckInterval, problems);
        var timeout = ReadDuration(keys, "Timeout", "HealthCheck.Timeout", TimeSpan.Zero, problems);

        // A Timeout longer than Interval is allowed: a slow probe only delays the next one.
        var healthy = ReadInteger(keys, "HealthyThreshold", "HealthCheck.HealthyThreshold", 1, ConfigLimits.MaxHealthThreshold, problems);
        var unhealthy = ReadInteger(keys, "UnhealthyThreshold", "HealthCheck.UnhealthyThreshold", 1, ConfigLimits.MaxHealthThreshold, problems);
        var send = ReadProbeText(keys, "Send", problems);
        var expect = ReadProbeText(keys, "Expect", problems);
        var probe = ReadProbe(keys, schema, problems);
        if (problems.Count > before)
        {
            return null;
        }

        return new HealthCheckConfig
        {
            Interval = interval ?? HealthCheckConfig.DefaultInterval,
            Timeout = timeout ?? HealthCheckConfig.DefaultTimeout,
            HealthyThreshold = healthy ?? HealthCheckConfig.DefaultHealthyThreshold,
            UnhealthyThreshold = unhealthy ?? HealthCheckConfig.DefaultUnhealthyThreshold,
            Send = send,
            Expect = expect,
            Probe = probe!,
        };
    }

    /// <summary><c>"Send"</c> or <c>"Expect"</c>: a non-empty string when given.</summary>
    private static string? ReadProbeText(Dictionary<string, JsonElement> keys, string key, List<string> problems)
    {
        if (!keys.TryGetValue(key, out var element))
        {
            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            problems.Add($"\"HealthCheck.{key}\" must be a string, got {Show(element)}");
            return null;
        }

        var text = element.GetString()!;
        if (text.Length == 0)
        {
            problems.Add($"\"HealthCheck.{key}\" is empty (leave it out to {(key == "Send" ? "send nothing" : "read nothing")})");
            return null;
        }

        return text;
    }

    /// <summary>
    /// The probe kind, in its registered spelling. Absent: "send-expect" when Send or Expect is
    /// given, else "tcp". The "tcp" probe only connects, so Send or Expect with it is an error.
    /// </summary>
    private static string? ReadProbe(Dictionary<string, JsonElement> keys, ConfigSchema schema, List<string> problems)
    {
        var send = keys.ContainsKey("Send");
        var expect = keys.ContainsKey("Expect");
        if (!keys.TryGetValue("Probe", out var element))
        {
            return send || expect ? HealthCheckConfig.SendExpectProbe : HealthCheckConfig.TcpProbe;
        }

        var probe = ReadRegisteredName(element, "\"HealthCheck.Probe\"", "probe", "probes", schema.Probes, schema.FindProbe, problems);
        if ((send || expect) && string.Equals(probe, HealthCheckConfig.TcpProbe, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add(ConfigValidator.ProbeIgnoresText(probe!, send, expect));
        }
        else if (!send && !expect && string.Equals(probe, HealthCheckConfig.SendExpectProbe, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add(ConfigValidator.ProbeNeedsText(probe!));
        }

        return probe;
    }

    /// <summary>The app's <c>"PassiveHealth"</c>: on with the defaults unless <c>"off"</c> or false.</summary>
    private static PassiveHealthConfig? ReadPassiveHealth(Dictionary<string, JsonElement> keys, List<string> problems)
    {
        if (!keys.TryGetValue("PassiveHealth", out var element))
        {
            return PassiveHealthConfig.Default;
        }

        if (ReadSwitch(element) is { } on)
        {
            return on ? PassiveHealthConfig.Default : PassiveHealthConfig.Off;
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            return ReadPassiveHealthObject(element, problems);
        }

        problems.Add($"\"PassiveHealth\" must be \"on\", \"off\", true, false or an object like {{\"ConsecutiveFailures\": 3, \"BaseEjection\": \"5s\", \"MaxEjection\": \"2m\"}}, got {Show(element)}");
        return null;
    }

    private static PassiveHealthConfig? ReadPassiveHealthObject(JsonElement element, List<string> problems)
    {
        var defaults = PassiveHealthConfig.Default;
        var before = problems.Count;
        var keys = JsonKeys.Read(element, PassiveHealthKeys, " in \"PassiveHealth\"", problems);
        var failures = ReadInteger(keys, "ConsecutiveFailures", "PassiveHealth.ConsecutiveFailures", 1, ConfigLimits.MaxConsecutiveFailures, problems);
        var baseEjection = ReadDuration(keys, "BaseEjection", "PassiveHealth.BaseEjection", TimeSpan.Zero, problems);
        var maxEjection = ReadDuration(keys, "MaxEjection", "PassiveHealth.MaxEjection", TimeSpan.Zero, problems);
        CheckNotLonger(
            keys, "BaseEjection", baseEjection, defaults.BaseEjection, "MaxEjection", maxEjection, defaults.MaxEjection,
            "PassiveHealth", ConfigLimits.EjectionWhy, problems);
        return problems.Count > before
            ? null
            : new PassiveHealthConfig(
                true,
                failures ?? defaults.ConsecutiveFailures,
                baseEjection ?? defaults.BaseEjection,
                maxEjection ?? defaults.MaxEjection);
    }

    /// <summary>
    /// Adds a problem when the duration under <paramref name="shortKey"/> is longer than the one
    /// under <paramref name="longKey"/>, each given or its default; names the key that was given
    /// (the short one when both were), and says which value is a default. Skipped when either
    /// given value was invalid (already reported).
    /// </summary>
    private static void CheckNotLonger(
        Dictionary<string, JsonElement> keys,
        string shortKey,
        TimeSpan? shortValue,
        TimeSpan shortDefault,
        string longKey,
        TimeSpan? longValue,
        TimeSpan longDefault,
        string section,
        string why,
        List<string> problems)
    {
        var shortGiven = keys.TryGetValue(shortKey, out var shortElement);
        var longGiven = keys.TryGetValue(longKey, out var longElement);
        if ((shortGiven && shortValue is null) || (longGiven && longValue is null) || (!shortGiven && !longGiven))
        {
            return;
        }

        var shortest = shortValue ?? shortDefault;
        var longest = longValue ?? longDefault;
        if (shortest <= longest)
        {
            return;
        }

        problems.Add(shortGiven
            ? $"\"{section}.{shortKey}\": {Show(shortElement)} is longer than \"{longKey}\" ({Duration.Format(longest)}{(longGiven ? string.Empty : ", the default")}): {why}"
            : $"\"{section}.{longKey}\": {Show(longElement)} is shorter than \"{shortKey}\" ({Duration.Format(shortest)}, the default): {why}");
    }
}

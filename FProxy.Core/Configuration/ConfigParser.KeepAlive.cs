using System.Text.Json;

namespace FProxy.Configuration;

/// <content>Reading an app's TCP keepalive settings.</content>
public static partial class ConfigParser
{
    private static readonly string[] KeepAliveKeys = ["Idle", "Interval", "Count"];

    private static KeepAliveConfig? ReadKeepAlive(Dictionary<string, JsonElement> keys, List<string> problems)
    {
        if (!keys.TryGetValue("KeepAlive", out var element))
        {
            return KeepAliveConfig.Default;
        }

        if (ReadSwitch(element) is { } on)
        {
            return on ? KeepAliveConfig.Default : KeepAliveConfig.Off;
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            return ReadKeepAliveObject(element, problems);
        }

        problems.Add($"\"KeepAlive\" must be \"on\", \"off\", true, false or an object like {{\"Idle\": \"60s\", \"Interval\": \"10s\", \"Count\": 6}}, got {Show(element)}");
        return null;
    }

    private static KeepAliveConfig ReadKeepAliveObject(JsonElement element, List<string> problems)
    {
        var defaults = KeepAliveConfig.Default;
        var keys = JsonKeys.Read(element, KeepAliveKeys, " in \"KeepAlive\"", problems);
        var idle = ReadKeepAliveTime(keys, "Idle", defaults.Idle, problems);
        var interval = ReadKeepAliveTime(keys, "Interval", defaults.Interval, problems);
        var count = ReadInteger(keys, "Count", "KeepAlive.Count", 1, ConfigLimits.MaxKeepAliveCount, problems) ?? defaults.Count;
        return new KeepAliveConfig(true, idle, interval, count);
    }

    private static TimeSpan ReadKeepAliveTime(Dictionary<string, JsonElement> keys, string key, TimeSpan defaultValue, List<string> problems)
    {
        if (!keys.TryGetValue(key, out var element) || !TryReadDuration(element, "KeepAlive." + key, problems, out var value))
        {
            return defaultValue;
        }

        if (value.Ticks % TimeSpan.TicksPerSecond != 0 || value.TotalSeconds > ConfigLimits.MaxKeepAliveSeconds)
        {
            problems.Add($"\"KeepAlive.{key}\": {Show(element)} must be whole seconds from 1s to {ConfigLimits.MaxKeepAliveSeconds}s (the kernel counts keepalive time in seconds)");
            return defaultValue;
        }

        return value;
    }
}

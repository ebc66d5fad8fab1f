using System.Net;
using System.Text.Json;

namespace FProxy.Configuration;

/// <content>Reading and validating one app.</content>
public static partial class ConfigParser
{
    /// <summary>The kernel keeps keepalive times in whole seconds, at most 32767 (MAX_TCP_KEEPIDLE).</summary>
    private const int MaxKeepAliveSeconds = 32767;

    private const int MaxKeepAliveCount = 127;

    /// <summary>
    /// Timers take at most int.MaxValue milliseconds (about 24.8 days); cap timeouts below that
    /// at a round number.
    /// </summary>
    private static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(24);

    private static readonly string[] AppKeys =
        ["Name", "Ports", "Targets", "Bind", "Backlog", "ConnectTimeout", "DrainTimeout", "KeepAlive"];

    private static readonly string[] KeepAliveKeys = ["Idle", "Interval", "Count"];

    private static AppConfig? ReadApp(
        JsonElement app, int index, Dictionary<long, string> portOwners, Dictionary<string, int> nameOwners, List<string> errors)
    {
        if (app.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"Apps[{index}]: must be an object, got {Show(app)}");
            return null;
        }

        var problems = new List<string>();
        var keys = JsonKeys.Read(app, AppKeys, string.Empty, problems);
        var name = ReadName(keys, problems);
        if (name is not null)
        {
            if (nameOwners.TryGetValue(name, out var first))
            {
                problems.Add($"name \"{name}\" is already used by Apps[{first}]");
            }
            else
            {
                nameOwners.Add(name, index);
            }
        }

        var owner = name is null ? $"Apps[{index}]" : $"app \"{name}\"";
        var ports = ReadPorts(keys, owner, portOwners, problems);
        var targets = ReadTargets(keys, problems);
        var bind = ReadBind(keys, problems);
        var backlog = ReadBacklog(keys, problems);
        var connectTimeout = ReadTimeout(keys, "ConnectTimeout", AppConfig.DefaultConnectTimeout, problems);
        var drainTimeout = ReadTimeout(keys, "DrainTimeout", AppConfig.DefaultDrainTimeout, problems);
        var keepAlive = ReadKeepAlive(keys, problems);

        if (problems.Count > 0)
        {
            var prefix = name is null ? $"Apps[{index}]: " : $"Apps[{index}] \"{name}\": ";
            foreach (var problem in problems)
            {
                errors.Add(prefix + problem);
            }

            return null;
        }

        return new AppConfig
        {
            Name = name!,
            Ports = new EquatableList<int>(ports!),
            Targets = new EquatableList<TargetConfig>(targets!),
            Bind = bind,
            Backlog = backlog,
            ConnectTimeout = connectTimeout,
            DrainTimeout = drainTimeout,
            KeepAlive = keepAlive!,
        };
    }

    private static string? ReadName(Dictionary<string, JsonElement> keys, List<string> problems)
    {
        if (!keys.TryGetValue("Name", out var element))
        {
            problems.Add("missing \"Name\"");
            return null;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            problems.Add($"\"Name\" must be a string, got {Show(element)}");
            return null;
        }

        var name = element.GetString();
        if (string.IsNullOrWhiteSpace(name))
        {
            problems.Add("\"Name\" is empty");
            return null;
        }

        return name;
    }

    private static List<int>? ReadPorts(
        Dictionary<string, JsonElement> keys, string owner, Dictionary<long, string> portOwners, List<string> problems)
    {
        if (!TryGetNonEmptyArray(keys, "Ports", "an array of integers", problems, out var array))
        {
            return null;
        }

        var ports = new List<int>();
        var repeated = new HashSet<long>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (!TryGetWholeNumber(item, out var port))
            {
                problems.Add($"Ports[{index}]: expected an integer port, got {Show(item)}");
            }
            else if (port is < 1 or > 65535)
            {
                problems.Add($"Ports[{index}]: port {item.GetRawText()} is outside 1..65535");
            }
            else if (ports.Contains((int)port))
            {
                if (repeated.Add(port))
                {
                    problems.Add($"port {port} is listed twice");
                }
            }
            else
            {
                if (!portOwners.TryAdd(port, owner))
                {
                    problems.Add($"port {port} is already used by {portOwners[port]}");
                }

                ports.Add((int)port);
            }

            index++;
        }

        return ports;
    }

    private static List<TargetConfig>? ReadTargets(Dictionary<string, JsonElement> keys, List<string> problems)
    {
        if (!TryGetNonEmptyArray(keys, "Targets", "an array of strings like \"host:port\"", problems, out var array))
        {
            return null;
        }

        var targets = new List<TargetConfig>();
        var index = 0;
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                problems.Add($"Targets[{index}]: expected a string like \"host:port\", got {Show(item)}");
            }
            else if (TargetParser.TryParse(item.GetString()!, out var target, out var problem))
            {
                targets.Add(target);
            }
            else
            {
                problems.Add($"Targets[{index}]: {problem}");
            }

            index++;
        }

        return targets;
    }

    private static bool TryGetNonEmptyArray(
        Dictionary<string, JsonElement> keys, string key, string expected, List<string> problems, out JsonElement array)
    {
        if (!keys.TryGetValue(key, out array))
        {
            problems.Add($"missing \"{key}\"");
            return false;
        }

        if (array.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"\"{key}\" must be {expected}, got {Show(array)}");
            return false;
        }

        if (array.GetArrayLength() == 0)
        {
            problems.Add($"\"{key}\" is empty");
            return false;
        }

        return true;
    }

    private static IPAddress? ReadBind(Dictionary<string, JsonElement> keys, List<string> problems)
    {
        // Absent or null: listen on every address (dual-stack "::").
        if (!keys.TryGetValue("Bind", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (element.ValueKind == JsonValueKind.String && TargetParser.TryParseAddress(element.GetString()!, out var address))
        {
            return address;
        }

        problems.Add($"\"Bind\": {Show(element)} is not an IP address (expected e.g. \"127.0.0.1\", \"0.0.0.0\" or \"::1\"; leave \"Bind\" out to listen on all addresses)");
        return null;
    }

    private static int ReadBacklog(Dictionary<string, JsonElement> keys, List<string> problems)
    {
        if (!keys.TryGetValue("Backlog", out var element))
        {
            return AppConfig.DefaultBacklog;
        }

        if (!TryGetWholeNumber(element, out var backlog))
        {
            problems.Add($"\"Backlog\" must be an integer, got {Show(element)}");
        }
        else if (backlog is < 1 or > 65535)
        {
            problems.Add($"\"Backlog\": {element.GetRawText()} is outside 1..65535");
        }

        return (int)Math.Clamp(backlog, 1, 65535);
    }

    private static TimeSpan ReadTimeout(Dictionary<string, JsonElement> keys, string key, TimeSpan defaultValue, List<string> problems)
    {
        if (!keys.TryGetValue(key, out var element))
        {
            return defaultValue;
        }

        if (!TryReadDuration(element, key, problems, out var value))
        {
            return defaultValue;
        }

        if (value > MaxTimeout)
        {
            problems.Add($"\"{key}\": {Show(element)} is too long (at most {Duration.Format(MaxTimeout)})");
        }

        return value;
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

    private static KeepAliveConfig? ReadKeepAlive(Dictionary<string, JsonElement> keys, List<string> problems)
    {
        if (!keys.TryGetValue("KeepAlive", out var element))
        {
            return KeepAliveConfig.Default;
        }

        switch (element.ValueKind)
        {
            case JsonValueKind.True:
            case JsonValueKind.String when string.Equals(element.GetString(), "on", StringComparison.OrdinalIgnoreCase):
                return KeepAliveConfig.Default;
            case JsonValueKind.False:
            case JsonValueKind.String when string.Equals(element.GetString(), "off", StringComparison.OrdinalIgnoreCase):
                return KeepAliveConfig.Off;
            case JsonValueKind.Object:
                return ReadKeepAliveObject(element, problems);
            default:
                problems.Add($"\"KeepAlive\" must be \"on\", \"off\", true, false or an object like {{\"Idle\": \"60s\", \"Interval\": \"10s\", \"Count\": 6}}, got {Show(element)}");
                return null;
        }
    }

    private static KeepAliveConfig ReadKeepAliveObject(JsonElement element, List<string> problems)
    {
        var defaults = KeepAliveConfig.Default;
        var keys = JsonKeys.Read(element, KeepAliveKeys, " in \"KeepAlive\"", problems);
        var idle = ReadKeepAliveTime(keys, "Idle", defaults.Idle, problems);
        var interval = ReadKeepAliveTime(keys, "Interval", defaults.Interval, problems);
        var count = defaults.Count;
        if (keys.TryGetValue("Count", out var countElement))
        {
            if (!TryGetWholeNumber(countElement, out var value))
            {
                problems.Add($"\"KeepAlive.Count\" must be an integer, got {Show(countElement)}");
            }
            else if (value is < 1 or > MaxKeepAliveCount)
            {
                problems.Add($"\"KeepAlive.Count\": {countElement.GetRawText()} is outside 1..{MaxKeepAliveCount}");
            }
            else
            {
                count = (int)value;
            }
        }

        return new KeepAliveConfig(true, idle, interval, count);
    }

    private static TimeSpan ReadKeepAliveTime(Dictionary<string, JsonElement> keys, string key, TimeSpan defaultValue, List<string> problems)
    {
        if (!keys.TryGetValue(key, out var element) || !TryReadDuration(element, "KeepAlive." + key, problems, out var value))
        {
            return defaultValue;
        }

        if (value.Ticks % TimeSpan.TicksPerSecond != 0 || value.TotalSeconds > MaxKeepAliveSeconds)
        {
            problems.Add($"\"KeepAlive.{key}\": {Show(element)} must be whole seconds from 1s to {MaxKeepAliveSeconds}s (the kernel counts keepalive time in seconds)");
            return defaultValue;
        }

        return value;
    }
}

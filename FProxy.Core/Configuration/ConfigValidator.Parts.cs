
namespace FProxy.Configuration;

/// <content>Checking the parts of an app: targets, rules, keepalive and health settings.</content>
public static partial class ConfigValidator
{
    /// <summary>
    /// The targets of the app (<paramref name="place"/> empty) or of a rule: not empty, each a valid
    /// host and port with a weight in range, none listed twice.
    /// </summary>
    private static void CheckTargets(EquatableList<TargetConfig>? targets, string place, List<string> problems)
    {
        if (targets is null || targets.Count == 0)
        {
            problems.Add(At(place, "\"Targets\" is empty"));
            return;
        }

        // Where each target was first listed, by identity (host ignoring case, and port).
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < targets.Count; i++)
        {
            var label = place.Length == 0 ? $"Targets[{i}]" : $"{place}.Targets[{i}]";
            var target = targets[i];
            if (target is null)
            {
                problems.Add($"{label}: is null");
                continue;
            }

            // The parser's own rules for "host:port", applied to the host and port given.
            if (target.Host is null)
            {
                problems.Add($"{label}: the host is missing");
                continue;
            }

            if (!TargetParser.TryParse(target.ToString(), out _, out var problem))
            {
                problems.Add($"{label}: {problem}");
                continue;
            }

            if (target.Weight is < 1 or > TargetConfig.MaxWeight)
            {
                problems.Add($"{label}: \"Weight\": {target.Weight} is outside 1..{TargetConfig.MaxWeight}");
            }

            if (!seen.TryAdd(target.Key, label))
            {
                problems.Add($"{label}: \"{target}\" is already listed as {seen[target.Key]}");
            }
        }
    }

    private static void CheckRules(AppConfig app, ConfigSchema schema, List<string> problems)
    {
        if (app.Rules is null)
        {
            problems.Add("\"Rules\" is null (leave it out, or give an empty list, for no rules)");
            return;
        }

        for (var r = 0; r < app.Rules.Count; r++)
        {
            var place = $"Rules[{r}]";
            var rule = app.Rules[r];
            if (rule is null)
            {
                problems.Add($"{place}: is null");
                continue;
            }

            CheckMatch(rule.Match, place, app.Ports, problems);
            CheckTargets(rule.Targets, place, problems);
            CheckStrategy(rule.Strategy, place, schema, problems);
        }
    }

    private static void CheckMatch(MatchConfig? match, string place, EquatableList<int>? appPorts, List<string> problems)
    {
        if (match is null)
        {
            problems.Add($"{place}: missing \"Match\"");
            return;
        }

        var cidrs = match.SourceCidrs ?? EquatableList<string>.Empty;
        var ports = match.Ports ?? EquatableList<int>.Empty;
        var sni = match.Sni ?? EquatableList<string>.Empty;
        if (cidrs.Count == 0 && ports.Count == 0 && sni.Count == 0)
        {
            // A rule without criteria would take every connection: the app's targets would be dead config.
            problems.Add($"{place}: \"Match\" has no criterion (give at least one of \"SourceCidrs\", \"Ports\" or \"Sni\")");
            return;
        }

        for (var i = 0; i < cidrs.Count; i++)
        {
            if (!CidrParser.TryParse(cidrs[i], out _, out var problem))
            {
                problems.Add($"{place}.Match.SourceCidrs[{i}]: {problem ?? $"\"{cidrs[i]}\" is not a valid CIDR range"}");
            }
        }

        for (var i = 0; i < ports.Count; i++)
        {
            if (appPorts is not null && !appPorts.Contains(ports[i]))
            {
                problems.Add($"{place}.Match.Ports[{i}]: {PortNotOfApp(ports[i], appPorts)}");
            }
        }

        for (var i = 0; i < sni.Count; i++)
        {
            if (!SniPattern.IsValid(sni[i], out var problem))
            {
                problems.Add($"{place}.Match.Sni[{i}]: {problem ?? $"\"{sni[i]}\" is not a valid SNI pattern"}");
            }
        }
    }

    /// <summary>The message for a rule's port that the app does not listen on.</summary>
    internal static string PortNotOfApp(object port, IEnumerable<int> appPorts) =>
        $"port {port} is not one of this app's ports ({string.Join(", ", appPorts)})";

    /// <summary>
    /// A target listed in the app's Targets and in rules (or in several rules) must carry the same
    /// weight and PROXY protocol header everywhere: its state (health, active connections) is kept
    /// once per app and target, and its health probes send one kind of header.
    /// </summary>
    internal static void CheckOneSettingPerTarget(
        IReadOnlyList<TargetConfig>? targets, IReadOnlyList<RuleConfig?>? rules, ProxyProtocolVersion appHeader, List<string> problems)
    {
        var first = new Dictionary<string, (int Weight, ProxyProtocolVersion Header, string Place)>(StringComparer.Ordinal);
        void Check(TargetConfig? target, ProxyProtocolVersion header, string place)
        {
            if (target?.Host is null || first.TryAdd(target.Key, (target.Weight, header, place)))
            {
                return;
            }

            var (weight, firstHeader, where) = first[target.Key];
            if (weight != target.Weight)
            {
                problems.Add($"{place}: \"{target}\" has weight {target.Weight} here but {weight} in {where} (a target has one weight per app)");
            }
            else if (firstHeader != header)
            {
                problems.Add($"{place}: \"{target}\" gets PROXY protocol {Describe(header)} here but {Describe(firstHeader)} in {where} "
                    + "(a target has one \"ProxyProtocol\" per app: its health probes send one kind of header)");
            }
        }

        for (var i = 0; i < (targets?.Count ?? 0); i++)
        {
            Check(targets![i], appHeader, $"Targets[{i}]");
        }

        for (var r = 0; r < (rules?.Count ?? 0); r++)
        {
            for (var i = 0; i < (rules![r]?.Targets?.Count ?? 0); i++)
            {
                Check(rules[r]!.Targets[i], rules[r]!.ProxyProtocol ?? appHeader, $"Rules[{r}].Targets[{i}]");
            }
        }
    }

    /// <summary>How messages name a PROXY protocol setting, as the config spells it.</summary>
    internal static string Describe(ProxyProtocolVersion version) => version switch
    {
        ProxyProtocolVersion.V1 => "\"v1\"",
        ProxyProtocolVersion.V2 => "\"v2\"",
        _ => "\"off\"",
    };

    /// <summary>The message for trusted proxies on an app that accepts no header.</summary>
    internal const string TrustedProxiesWithoutAccept =
        "\"TrustedProxies\" needs \"AcceptProxyProtocol\": true (it says who may send PROXY protocol headers)";

    private static void CheckProxyProtocol(AppConfig app, List<string> problems)
    {
        CheckVersion(app.ProxyProtocol, string.Empty, problems);
        for (var r = 0; r < (app.Rules?.Count ?? 0); r++)
        {
            if (app.Rules![r]?.ProxyProtocol is { } version)
            {
                CheckVersion(version, $"Rules[{r}]: ", problems);
            }
        }

        CheckDuration(app.ProxyProtocolTimeout, "ProxyProtocolTimeout", TimeSpan.Zero, string.Empty, problems);
        var trusted = app.TrustedProxies;
        if (trusted is null)
        {
            problems.Add("\"TrustedProxies\" is null (leave it empty to trust every source)");
            return;
        }

        if (trusted.Count > 0 && !app.AcceptProxyProtocol)
        {
            problems.Add(TrustedProxiesWithoutAccept);
        }

        for (var i = 0; i < trusted.Count; i++)
        {
            if (!CidrParser.TryParse(trusted[i], out _, out var problem))
            {
                problems.Add($"TrustedProxies[{i}]: {problem ?? $"\"{trusted[i]}\" is not a valid CIDR range"}");
            }
        }

        static void CheckVersion(ProxyProtocolVersion version, string place, List<string> problems)
        {
            if (!Enum.IsDefined(version))
            {
                problems.Add($"{place}\"ProxyProtocol\": {(int)version} is not a PROXY protocol version (None, V1 or V2)");
            }
        }
    }

    private static void CheckKeepAlive(KeepAliveConfig? keepAlive, List<string> problems)
    {
        if (keepAlive is null)
        {
            problems.Add($"\"KeepAlive\" is null (use {nameof(KeepAliveConfig)}.{nameof(KeepAliveConfig.Off)} to turn it off)");
            return;
        }

        if (!keepAlive.Enabled)
        {
            return;
        }

        CheckKeepAliveTime(keepAlive.Idle, "Idle", problems);
        CheckKeepAliveTime(keepAlive.Interval, "Interval", problems);
        CheckRange(keepAlive.Count, "KeepAlive.Count", 1, ConfigLimits.MaxKeepAliveCount, problems);
    }

    private static void CheckKeepAliveTime(TimeSpan value, string key, List<string> problems)
    {
        if (value <= TimeSpan.Zero || value.Ticks % TimeSpan.TicksPerSecond != 0 || value.TotalSeconds > ConfigLimits.MaxKeepAliveSeconds)
        {
            problems.Add($"\"KeepAlive.{key}\": {value} must be whole seconds from 1s to {ConfigLimits.MaxKeepAliveSeconds}s (the kernel counts keepalive time in seconds)");
        }
    }

    private static void CheckHealthCheck(HealthCheckConfig? check, ConfigSchema schema, List<string> problems)
    {
        if (check is null)
        {
            return;
        }

        CheckDuration(check.Interval, "HealthCheck.Interval", ConfigLimits.MinHealthCheckInterval, string.Empty, problems);
        CheckDuration(check.Timeout, "HealthCheck.Timeout", TimeSpan.Zero, string.Empty, problems);
        CheckRange(check.HealthyThreshold, "HealthCheck.HealthyThreshold", 1, ConfigLimits.MaxHealthThreshold, problems);
        CheckRange(check.UnhealthyThreshold, "HealthCheck.UnhealthyThreshold", 1, ConfigLimits.MaxHealthThreshold, problems);
        foreach (var (key, text) in new[] { ("Send", check.Send), ("Expect", check.Expect) })
        {
            if (text is { Length: 0 })
            {
                problems.Add($"\"HealthCheck.{key}\" is empty (leave it out to {(key == "Send" ? "send nothing" : "read nothing")})");
            }
        }

        if (check.Probe is null || schema.FindProbe(check.Probe) is null)
        {
            problems.Add(UnknownName("\"HealthCheck.Probe\"", "probe", "probes", check.Probe ?? "null", schema.Probes));
            return;
        }

        var send = check.Send is not null;
        var expect = check.Expect is not null;
        if ((send || expect) && string.Equals(check.Probe, HealthCheckConfig.TcpProbe, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add(ProbeIgnoresText(check.Probe, send, expect));
        }
        else if (!send && !expect && string.Equals(check.Probe, HealthCheckConfig.SendExpectProbe, StringComparison.OrdinalIgnoreCase))
        {
            problems.Add(ProbeNeedsText(check.Probe));
        }
    }

    /// <summary>The message for the "tcp" probe given Send or Expect, which it would ignore.</summary>
    internal static string ProbeIgnoresText(string probe, bool send, bool expect)
    {
        var ignored = send && expect ? "\"Send\" and \"Expect\" would be" : send ? "\"Send\" would be" : "\"Expect\" would be";
        return $"\"HealthCheck.Probe\": \"{probe}\" only connects, so {ignored} ignored (use \"{HealthCheckConfig.SendExpectProbe}\", or leave \"Probe\" out)";
    }

    /// <summary>The message for the "send-expect" probe given neither Send nor Expect.</summary>
    internal static string ProbeNeedsText(string probe) =>
        $"\"HealthCheck.Probe\": \"{probe}\" needs \"Send\", \"Expect\" or both (without them it would only connect: leave \"Probe\" out for that)";

    private static void CheckPassiveHealth(PassiveHealthConfig? passive, List<string> problems)
    {
        if (passive is null)
        {
            problems.Add($"\"PassiveHealth\" is null (use {nameof(PassiveHealthConfig)}.{nameof(PassiveHealthConfig.Off)} to turn it off)");
            return;
        }

        if (!passive.Enabled)
        {
            return;
        }

        CheckRange(passive.ConsecutiveFailures, "PassiveHealth.ConsecutiveFailures", 1, ConfigLimits.MaxConsecutiveFailures, problems);
        var before = problems.Count;
        CheckDuration(passive.BaseEjection, "PassiveHealth.BaseEjection", TimeSpan.Zero, string.Empty, problems);
        CheckDuration(passive.MaxEjection, "PassiveHealth.MaxEjection", TimeSpan.Zero, string.Empty, problems);
        if (problems.Count == before && passive.BaseEjection > passive.MaxEjection)
        {
            problems.Add($"\"PassiveHealth.BaseEjection\": {Duration.Format(passive.BaseEjection)} is longer than \"MaxEjection\" ({Duration.Format(passive.MaxEjection)}): {ConfigLimits.EjectionWhy}");
        }
    }
}

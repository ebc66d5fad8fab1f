using System.Net;
using System.Text.Json;

namespace FProxy.Configuration;

/// <content>Reading and validating one app.</content>
public static partial class ConfigParser
{
    private static readonly string[] AppKeys =
    [
        "Name", "Ports", "Targets", "Strategy", "Rules", "Bind", "Backlog", "ConnectTimeout", "DrainTimeout",
        "KeepAlive", "SniTimeout", "HealthCheck", "PassiveHealth", "AccessLog", "MaxConnections", "MaxConnectionsPerSource", "MaxPeekingConnections", "IdleTimeout",
        "ProxyProtocol", "AcceptProxyProtocol", "ProxyProtocolTimeout", "TrustedProxies",
    ];

    private static AppConfig? ReadApp(
        JsonElement app,
        int index,
        ConfigSchema schema,
        Dictionary<long, string> portOwners,
        Dictionary<string, int> nameOwners,
        List<string> errors)
    {
        // index < 0: one app on its own (an etcd key's value), whose messages name no place.
        var place = index < 0 ? string.Empty : $"Apps[{index}]";
        if (app.ValueKind != JsonValueKind.Object)
        {
            errors.Add(index < 0 ? $"an app must be an object, got {Show(app)}" : $"{place}: must be an object, got {Show(app)}");
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

        var owner = name is null ? place : $"app \"{name}\"";
        var ports = ReadPorts(keys, owner, portOwners, problems);
        var targets = ReadTargets(keys, string.Empty, problems);
        var strategy = ReadAppStrategy(keys, schema, problems);
        var rules = ReadRules(keys, ports, schema, problems);
        var proxyProtocol = ReadProxyProtocol(keys, string.Empty, problems) ?? ProxyProtocolVersion.None;
        ConfigValidator.CheckOneSettingPerTarget(targets, rules, proxyProtocol, problems);
        var bind = ReadBind(keys, problems);
        var backlog = ReadInteger(keys, "Backlog", "Backlog", 1, 65535, problems) ?? AppConfig.DefaultBacklog;
        var connectTimeout = ReadTimeout(keys, "ConnectTimeout", AppConfig.DefaultConnectTimeout, problems);
        var drainTimeout = ReadTimeout(keys, "DrainTimeout", AppConfig.DefaultDrainTimeout, problems);
        var keepAlive = ReadKeepAlive(keys, problems);
        var sniTimeout = ReadTimeout(keys, "SniTimeout", AppConfig.DefaultSniTimeout, problems);
        var healthCheck = ReadHealthCheck(keys, schema, problems);
        var passiveHealth = ReadPassiveHealth(keys, problems);
        var accessLog = ReadAccessLog(keys, problems);
        var maxConnections = ReadConnectionLimit(keys, "MaxConnections", null, problems);
        var maxConnectionsPerSource = ReadConnectionLimit(keys, "MaxConnectionsPerSource", null, problems);
        var maxPeekingConnections = ReadConnectionLimit(keys, "MaxPeekingConnections", AppConfig.DefaultMaxPeekingConnections, problems);
        var idleTimeout = ReadIdleTimeout(keys, problems);
        var acceptProxyProtocol = ReadAcceptProxyProtocol(keys, problems);
        var proxyProtocolTimeout = ReadTimeout(keys, "ProxyProtocolTimeout", AppConfig.DefaultProxyProtocolTimeout, problems);
        var trustedProxies = ReadTrustedProxies(keys, acceptProxyProtocol, problems);

        if (problems.Count > 0)
        {
            var prefix = index < 0 ? string.Empty : name is null ? $"{place}: " : $"{place} \"{name}\": ";
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
            Strategy = strategy,
            Rules = new EquatableList<RuleConfig>(rules!),
            Bind = bind,
            Backlog = backlog,
            ConnectTimeout = connectTimeout,
            DrainTimeout = drainTimeout,
            KeepAlive = keepAlive!,
            SniTimeout = sniTimeout,
            HealthCheck = healthCheck,
            PassiveHealth = passiveHealth!,
            AccessLog = accessLog,
            MaxConnections = maxConnections,
            MaxConnectionsPerSource = maxConnectionsPerSource,
            MaxPeekingConnections = maxPeekingConnections,
            IdleTimeout = idleTimeout,
            ProxyProtocol = proxyProtocol,
            AcceptProxyProtocol = acceptProxyProtocol,
            ProxyProtocolTimeout = proxyProtocolTimeout,
            TrustedProxies = new EquatableList<string>(trustedProxies!),
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
}

namespace FProxy.Configuration;

/// <summary>
/// Checks a <see cref="ProxyConfig"/> against every rule a config must follow, whatever its source:
/// the JSON parser runs it on what it read, the daemon on every snapshot before applying it, so a
/// config built in code or pushed by a custom <see cref="IConfigSubscriber"/> meets the same rules
/// and gets the same messages as a file.
/// </summary>
/// <remarks>
/// Every problem is collected, each naming its place as the parser does
/// (<c>Apps[1] "b": port 5001 is already used by app "a"</c>). Nothing is changed or normalized.
/// </remarks>
public static partial class ConfigValidator
{
    /// <summary>Every problem of <paramref name="config"/>; empty when it is valid.</summary>
    /// <param name="config">The snapshot to check.</param>
    /// <param name="schema">
    /// The strategy and probe names the config may use; <see cref="ConfigSchema.Default"/> (the
    /// built-ins) when null. A daemon checks with its own (<see cref="Daemon.ProxyDaemon.Schema"/>).
    /// </param>
    /// <returns>The problems, in config order.</returns>
    public static IReadOnlyList<string> Validate(ProxyConfig config, ConfigSchema? schema = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        schema ??= ConfigSchema.Default;
        var errors = new List<string>();
        if (config.Apps is null)
        {
            errors.Add("missing \"Apps\"");
            return errors;
        }

        // Names and ports are unique across apps: who claimed each first, for messages.
        var nameOwners = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var portOwners = new Dictionary<int, string>();
        for (var i = 0; i < config.Apps.Count; i++)
        {
            var app = config.Apps[i];
            if (app is null)
            {
                errors.Add($"Apps[{i}]: is null");
                continue;
            }

            var problems = new List<string>();
            CheckApp(app, i, schema, nameOwners, portOwners, problems);
            var prefix = string.IsNullOrWhiteSpace(app.Name) ? $"Apps[{i}]: " : $"Apps[{i}] \"{app.Name}\": ";
            foreach (var problem in problems)
            {
                errors.Add(prefix + problem);
            }
        }

        return errors;
    }

    /// <summary>
    /// Every problem of one app on its own, without a place prefix; rules across apps (unique names
    /// and ports) are not checked. Empty when it is valid.
    /// </summary>
    /// <param name="app">The app to check.</param>
    /// <param name="schema">The strategy and probe names the app may use; the built-ins when null.</param>
    /// <returns>The problems, in the order <see cref="Validate"/> reports them.</returns>
    public static IReadOnlyList<string> ValidateApp(AppConfig app, ConfigSchema? schema = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var problems = new List<string>();
        CheckApp(app, 0, schema ?? ConfigSchema.Default, new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase), [], problems);
        return problems;
    }

    /// <summary>Throws when <paramref name="config"/> breaks any rule; see <see cref="Validate"/>.</summary>
    /// <param name="config">The snapshot to check.</param>
    /// <param name="source">Where it came from, for the message (a file path, "etcd", a source's name).</param>
    /// <param name="schema">The strategy and probe names the config may use; the built-ins when null.</param>
    /// <exception cref="ConfigException">The config is invalid; <see cref="ConfigException.Errors"/> lists every problem.</exception>
    public static void ThrowIfInvalid(ProxyConfig config, string source = "config", ConfigSchema? schema = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        var errors = Validate(config, schema);
        if (errors.Count > 0)
        {
            throw new ConfigException(source, errors);
        }
    }

    private static void CheckApp(
        AppConfig app, int index, ConfigSchema schema, Dictionary<string, int> nameOwners, Dictionary<int, string> portOwners, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(app.Name))
        {
            problems.Add("\"Name\" is empty");
        }
        else if (!nameOwners.TryAdd(app.Name, index))
        {
            problems.Add($"name \"{app.Name}\" is already used by Apps[{nameOwners[app.Name]}]");
        }

        var owner = string.IsNullOrWhiteSpace(app.Name) ? $"Apps[{index}]" : $"app \"{app.Name}\"";
        CheckPorts(app.Ports, owner, portOwners, problems);
        CheckTargets(app.Targets, string.Empty, problems);
        CheckStrategy(app.Strategy, string.Empty, schema, problems);
        CheckRules(app, schema, problems);
        CheckOneSettingPerTarget(app.Targets, app.Rules, app.ProxyProtocol, problems);
        CheckRange(app.Backlog, "Backlog", 1, ConfigLimits.MaxBacklog, problems);
        CheckDuration(app.ConnectTimeout, "ConnectTimeout", TimeSpan.Zero, string.Empty, problems);
        CheckDuration(app.DrainTimeout, "DrainTimeout", TimeSpan.Zero, string.Empty, problems);
        CheckDuration(app.SniTimeout, "SniTimeout", TimeSpan.Zero, string.Empty, problems);
        CheckKeepAlive(app.KeepAlive, problems);
        CheckHealthCheck(app.HealthCheck, schema, problems);
        CheckPassiveHealth(app.PassiveHealth, problems);
        CheckProxyProtocol(app, problems);
        CheckConnectionLimit(app.MaxConnections, "MaxConnections", problems);
        CheckConnectionLimit(app.MaxConnectionsPerSource, "MaxConnectionsPerSource", problems);
        CheckConnectionLimit(app.MaxPeekingConnections, "MaxPeekingConnections", problems);

        if (app.IdleTimeout is { } idle)
        {
            CheckDuration(idle, "IdleTimeout", ConfigLimits.MinIdleTimeout, ConfigLimits.IdleTimeoutWhy, problems);
        }
    }

    private static void CheckPorts(EquatableList<int>? ports, string owner, Dictionary<int, string> portOwners, List<string> problems)
    {
        if (ports is null || ports.Count == 0)
        {
            problems.Add("\"Ports\" is empty");
            return;
        }

        var seen = new HashSet<int>();
        var repeated = new HashSet<int>();
        for (var i = 0; i < ports.Count; i++)
        {
            var port = ports[i];
            if (port is < 1 or > ConfigLimits.MaxPort)
            {
                problems.Add(PortOutOfRange(i, port));
            }
            else if (!seen.Add(port))
            {
                if (repeated.Add(port))
                {
                    problems.Add($"port {port} is listed twice");
                }
            }
            else if (!portOwners.TryAdd(port, owner))
            {
                problems.Add($"port {port} is already used by {portOwners[port]}");
            }
        }
    }

    /// <summary>The message for a port outside 1..65535 at <c>Ports[index]</c>.</summary>
    internal static string PortOutOfRange(int index, object port) => $"Ports[{index}]: port {port} is outside 1..{ConfigLimits.MaxPort}";

    private static void CheckStrategy(string? strategy, string place, ConfigSchema schema, List<string> problems)
    {
        if (strategy is not null && schema.FindStrategy(strategy) is null)
        {
            problems.Add(At(place, UnknownName("\"Strategy\"", "strategy", "strategies", strategy, schema.Strategies)));
        }
    }

    /// <summary>
    /// <c>"Strategy": unknown strategy "x" (did you mean "y"?); valid strategies: ...</c>, as the
    /// parser says it.
    /// </summary>
    internal static string UnknownName(string label, string kind, string kinds, string given, IReadOnlyList<string> names)
    {
        var valid = names.Count == 0 ? $"no {kinds} are registered" : $"valid {kinds}: {string.Join(", ", names)}";
        var hint = KeyHint.Suggest(given, names);
        return hint is null
            ? $"{label}: unknown {kind} \"{given}\"; {valid}"
            : $"{label}: unknown {kind} \"{given}\" (did you mean \"{hint}\"?); {valid}";
    }

    /// <summary>A connection limit: null (none) or 1..<see cref="ConfigLimits.MaxConnections"/>.</summary>
    private static void CheckConnectionLimit(int? value, string label, List<string> problems)
    {
        if (value is { } max)
        {
            CheckRange(max, label, 1, ConfigLimits.MaxConnections, problems);
        }
    }

    private static void CheckRange(int value, string label, int min, int max, List<string> problems)
    {
        if (value < min || value > max)
        {
            problems.Add($"\"{label}\": {value} is outside {min}..{max}");
        }
    }

    /// <summary>A duration from <paramref name="min"/> (exclusive of zero) to <see cref="ConfigLimits.MaxTimeout"/>.</summary>
    private static void CheckDuration(TimeSpan value, string label, TimeSpan min, string why, List<string> problems)
    {
        if (value <= TimeSpan.Zero)
        {
            problems.Add($"\"{label}\": {value} must be positive");
        }
        else if (value < min)
        {
            problems.Add($"\"{label}\": {Duration.Format(value)} is too short (at least {Duration.Format(min)}{why})");
        }
        else if (value > ConfigLimits.MaxTimeout)
        {
            problems.Add($"\"{label}\": {Duration.Format(value)} is too long (at most {Duration.Format(ConfigLimits.MaxTimeout)})");
        }
    }

    private static string At(string place, string message) => place.Length == 0 ? message : $"{place}: {message}";
}

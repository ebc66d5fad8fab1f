namespace FProxy.Configuration;

/// <summary>
/// The names a config may use that plug-ins define: strategies and health probe kinds. The
/// parser rejects any other name, listing these. <see cref="Default"/> knows the built-ins; a
/// daemon with custom registrations has its own (<c>ProxyDaemon.Schema</c>).
/// </summary>
public sealed class ConfigSchema
{
    /// <summary>Creates a schema accepting the given names (case-insensitively).</summary>
    /// <param name="strategies">Strategy names, as they should be listed in messages.</param>
    /// <param name="probes">Health probe kinds, as they should be listed in messages.</param>
    public ConfigSchema(IEnumerable<string> strategies, IEnumerable<string> probes)
    {
        ArgumentNullException.ThrowIfNull(strategies);
        ArgumentNullException.ThrowIfNull(probes);
        Strategies = [.. strategies];
        Probes = [.. probes];
    }

    /// <summary>
    /// The built-in strategies and probes. Spelled out here so that the config's language does not
    /// depend on the parts that implement it; a test holds these to the registries' built-ins.
    /// </summary>
    public static ConfigSchema Default { get; } = new(
        ["RoundRobin", "Random", "LeastConnections", "PowerOfTwoChoices", "WeightedRoundRobin", "ConsistentHash"],
        [HealthCheckConfig.TcpProbe, HealthCheckConfig.SendExpectProbe]);

    /// <summary>Strategy names accepted in <c>"Strategy"</c>.</summary>
    public IReadOnlyList<string> Strategies { get; }

    /// <summary>Probe kinds accepted in <c>"HealthCheck": {"Probe": ...}</c>.</summary>
    public IReadOnlyList<string> Probes { get; }

    /// <summary>The accepted spelling of <paramref name="name"/>, or null when it is not a known strategy.</summary>
    internal string? FindStrategy(string name) => Find(Strategies, name);

    /// <summary>The accepted spelling of <paramref name="name"/>, or null when it is not a known probe kind.</summary>
    internal string? FindProbe(string name) => Find(Probes, name);

    private static string? Find(IReadOnlyList<string> names, string name)
    {
        foreach (var known in names)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                return known;
            }
        }

        return null;
    }
}

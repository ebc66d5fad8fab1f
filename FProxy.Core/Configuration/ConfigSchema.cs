using FProxy.Balancing;
using FProxy.Health;

namespace FProxy.Configuration;

/// <summary>
/// The names a config may use that plug-ins define: strategies and health probe kinds. The
/// parser rejects any other name, listing these. <see cref="Default"/> knows the built-ins; a
/// daemon with custom registrations has its own (<see cref="Daemon.ProxyDaemon.Schema"/>).
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

    /// <summary>The built-in strategies and probes.</summary>
    public static ConfigSchema Default { get; } = new(StrategyRegistry.BuiltInNames, ProbeRegistry.BuiltInNames);

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

namespace FProxy.Configuration;

/// <summary>
/// One validated, immutable snapshot of the whole proxy configuration. Snapshots compare by
/// value, so two parses of equivalent files are equal.
/// </summary>
public sealed record ProxyConfig
{
    /// <summary>A configuration with no apps.</summary>
    public static ProxyConfig Empty { get; } = new() { Apps = EquatableList<AppConfig>.Empty };

    /// <summary>The apps, in file order. Names and ports are unique across apps.</summary>
    public required EquatableList<AppConfig> Apps { get; init; }
}

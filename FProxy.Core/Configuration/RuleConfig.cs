namespace FProxy.Configuration;

/// <summary>
/// A routing rule of an app: connections that satisfy <see cref="Match"/> go to this rule's
/// targets instead of the app's. Rules are tried in order and the first match wins.
/// </summary>
public sealed record RuleConfig
{
    /// <summary>What a connection must satisfy; every criterion given must hold.</summary>
    public required MatchConfig Match { get; init; }

    /// <summary>Where matching connections go, in config order.</summary>
    public required EquatableList<TargetConfig> Targets { get; init; }

    /// <summary>The strategy for this rule's targets; null means the app's <see cref="AppConfig.Strategy"/>.</summary>
    public string? Strategy { get; init; }

    /// <summary>The PROXY protocol header for this rule's targets; null means the app's <see cref="AppConfig.ProxyProtocol"/>.</summary>
    public ProxyProtocolVersion? ProxyProtocol { get; init; }
}

namespace FProxy.Configuration;

/// <summary>
/// The criteria of a <see cref="RuleConfig"/>. Each non-empty list is a criterion that holds when
/// any of its entries matches; a connection matches when every given criterion holds.
/// </summary>
public sealed record MatchConfig
{
    /// <summary>Client address ranges in canonical CIDR form (<c>10.0.0.0/8</c>, <c>fd00::/8</c>); IPv4 clients of a dual-stack listener match IPv4 ranges.</summary>
    public EquatableList<string> SourceCidrs { get; init; } = EquatableList<string>.Empty;

    /// <summary>Local ports the client connected to; each must be one of the app's ports.</summary>
    public EquatableList<int> Ports { get; init; } = EquatableList<int>.Empty;

    /// <summary>
    /// TLS server names (SNI), lower case: exact names or <c>*.example.com</c>, which matches any
    /// name ending in <c>.example.com</c>. Matched case-insensitively against the ClientHello.
    /// </summary>
    public EquatableList<string> Sni { get; init; } = EquatableList<string>.Empty;
}

using System.Net;
using System.Net.Sockets;

namespace FProxy.Configuration;

/// <summary>A target as written in config: a host name or IP literal, and a port.</summary>
/// <param name="Host">Host name or IP literal (without brackets).</param>
/// <param name="Port">TCP port, 1..65535.</param>
public sealed record TargetConfig(string Host, int Port)
{
    /// <summary>Largest weight a target may carry.</summary>
    public const int MaxWeight = 1000;

    /// <summary>
    /// Relative share of new connections (1..<see cref="MaxWeight"/>, default 1), honoured by the
    /// weighted strategies; LeastConnections and PowerOfTwoChoices divide active connections by it.
    /// </summary>
    public int Weight { get; init; } = 1;

    /// <summary>The IP literal, when <see cref="Host"/> is one (no DNS lookup is needed).</summary>
    public IPAddress? Address { get; } = IPAddress.TryParse(Host, out var ip) ? ip : null;

    /// <summary>
    /// Where to connect when <see cref="Host"/> is an IP literal: made once, when the config is read.
    /// Null with a port outside 1..65535 (IPEndPoint throws on most): the validator reports it, so a
    /// target built in code (or by a deserializer) must not throw first (found by the config fuzz tests).
    /// </summary>
    internal IPEndPoint? EndPoint { get; } =
        IPAddress.TryParse(Host, out var ip) && Port is >= 1 and <= IPEndPoint.MaxPort ? new IPEndPoint(ip, Port) : null;

    /// <summary>
    /// The target's identity: <c>host:port</c> with the host in lower case. Health state is kept
    /// per app and key, so it survives a reload that only changes the weight.
    /// </summary>
    public string Key { get; } = KeyOf(Host, Port);

    /// <summary>An IP literal in its canonical form (so [0:0::1] and [::1] are one target), a name in lower case.</summary>
    private static string KeyOf(string host, int port) =>
        IPAddress.TryParse(host, out var ip)
            ? ip.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]:{port}" : $"{ip}:{port}"
            : $"{host?.ToLowerInvariant()}:{port}"; // No host: the validator's "the host is missing", not an exception here.

    /// <summary>Targets are equal when host (case-insensitively), port and weight are.</summary>
    /// <param name="other">The target to compare with.</param>
    public bool Equals(TargetConfig? other) =>
        other is not null && Port == other.Port && Weight == other.Weight && string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(Host), Port, Weight);

    /// <summary>The target as written in config: <c>host:port</c>, <c>1.2.3.4:port</c> or <c>[::1]:port</c>.</summary>
    public override string ToString() =>
        Address is { AddressFamily: AddressFamily.InterNetworkV6 } ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

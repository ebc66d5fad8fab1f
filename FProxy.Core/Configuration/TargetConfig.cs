using System.Net;
using System.Net.Sockets;

namespace FProxy.Configuration;

/// <summary>A target as written in config: a host name or IP literal, and a port.</summary>
/// <param name="Host">Host name or IP literal (without brackets).</param>
/// <param name="Port">TCP port, 1..65535.</param>
public sealed record TargetConfig(string Host, int Port)
{
    /// <summary>The IP literal, when <see cref="Host"/> is one (no DNS lookup is needed).</summary>
    public IPAddress? Address { get; } = IPAddress.TryParse(Host, out var ip) ? ip : null;

    /// <summary>Where to connect when <see cref="Host"/> is an IP literal: made once, when the config is read.</summary>
    internal IPEndPoint? EndPoint { get; } = IPAddress.TryParse(Host, out var ip) ? new IPEndPoint(ip, Port) : null;

    /// <summary>Targets are equal when host (case-insensitively) and port are.</summary>
    /// <param name="other">The target to compare with.</param>
    public bool Equals(TargetConfig? other) =>
        other is not null && Port == other.Port && string.Equals(Host, other.Host, StringComparison.OrdinalIgnoreCase);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(Host), Port);

    /// <summary>The target as written in config: <c>host:port</c>, <c>1.2.3.4:port</c> or <c>[::1]:port</c>.</summary>
    public override string ToString() =>
        Address is { AddressFamily: AddressFamily.InterNetworkV6 } ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

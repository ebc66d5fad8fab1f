namespace FProxy.Daemon;

/// <summary>One target of an app.</summary>
/// <param name="Address">As configured: <c>host:port</c>.</param>
/// <param name="Weight">Its weight.</param>
/// <param name="Healthy">Whether it takes new connections (not failed by checks, not ejected).</param>
/// <param name="Ejected">Whether passive health has taken it out for a while.</param>
/// <param name="ActiveConnections">Open connections to it.</param>
/// <param name="BytesClientToTarget">Bytes forwarded to it.</param>
/// <param name="BytesTargetToClient">Bytes forwarded from it.</param>
public sealed record TargetStatus(
    string Address,
    int Weight,
    bool Healthy,
    bool Ejected,
    int ActiveConnections,
    long BytesClientToTarget,
    long BytesTargetToClient);

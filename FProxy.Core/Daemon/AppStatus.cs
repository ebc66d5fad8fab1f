namespace FProxy.Daemon;

/// <summary>One app's listeners, targets and traffic.</summary>
/// <param name="Name">The app.</param>
/// <param name="Strategy">Its strategy.</param>
/// <param name="Ports">Its ports and their listeners.</param>
/// <param name="Targets">Every distinct target, its own and its rules'.</param>
/// <param name="ActiveConnections">Open connections across its ports, draining ones included.</param>
/// <param name="BytesClientToTarget">Bytes forwarded from clients to its targets since the app was applied.</param>
/// <param name="BytesTargetToClient">Bytes forwarded from its targets to clients.</param>
public sealed record AppStatus(
    string Name,
    string Strategy,
    IReadOnlyList<PortStatus> Ports,
    IReadOnlyList<TargetStatus> Targets,
    int ActiveConnections,
    long BytesClientToTarget,
    long BytesTargetToClient);

using FProxy.Balancing;

namespace FProxy.Transport;

/// <summary>
/// The connector's outcome: the target the connection's target side is now connected to (counted
/// in its <see cref="TargetState.ActiveConnections"/> until the caller calls Exit), or why none
/// could be reached.
/// </summary>
/// <param name="Target">The target connected, or null.</param>
/// <param name="Failure">Why no target could be reached, for logs.</param>
/// <param name="Attempts">Targets tried.</param>
/// <param name="Reason">The failure's metric reason (timeout, refused, no_target); null on success.</param>
internal readonly record struct ConnectResult(TargetState? Target, string? Failure, int Attempts, string? Reason = null);

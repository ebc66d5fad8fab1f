using System.Net.Sockets;
using FProxy.Balancing;

namespace FProxy.Transport;

/// <summary>
/// The connector's outcome: a connected socket and its target (counted in its
/// <see cref="TargetState.ActiveConnections"/> until the caller calls Exit), or why none could be reached.
/// </summary>
/// <param name="Socket">The connected socket, or null.</param>
/// <param name="Target">Its target.</param>
/// <param name="Failure">Why no target could be reached, for logs.</param>
/// <param name="Attempts">Targets tried.</param>
/// <param name="Reason">The failure's metric reason (timeout, refused, no_target); null on success.</param>
internal readonly record struct ConnectResult(Socket? Socket, TargetState? Target, string? Failure, int Attempts, string? Reason = null);

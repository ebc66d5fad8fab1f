using System.Net.Sockets;
using FProxy.Balancing;

namespace FProxy.Transport;

/// <summary>
/// The connector's outcome: a connected socket and its target (counted in its
/// <see cref="TargetState.ActiveConnections"/> until the caller calls Exit), or why none could be reached.
/// </summary>
internal readonly record struct ConnectResult(Socket? Socket, TargetState? Target, string? Failure, int Attempts);

using System.Net.Sockets;
using FProxy.Configuration;

namespace FProxy.Transport;

/// <summary>The connector's outcome: a connected socket and its target, or why none could be reached.</summary>
internal readonly record struct ConnectResult(Socket? Socket, TargetConfig? Target, string? Failure, int Attempts);

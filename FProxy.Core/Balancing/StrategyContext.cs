using System.Net;

namespace FProxy.Balancing;

/// <summary>What a strategy may know about a new connection.</summary>
/// <param name="TargetCount">How many targets the app has (at least one).</param>
/// <param name="Client">The client's address (IPv4-mapped IPv6 already turned into IPv4), if known.</param>
/// <param name="LocalPort">The port the client connected to.</param>
public readonly record struct StrategyContext(int TargetCount, IPEndPoint? Client, int LocalPort);

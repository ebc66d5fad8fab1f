using System.Net;

namespace FProxy.Balancing;

/// <summary>What a strategy may know about a new connection.</summary>
/// <param name="Targets">The available targets (at least one); the strategy returns an index into it.</param>
/// <param name="Client">The client's address (IPv4-mapped IPv6 already turned into IPv4), if known.</param>
/// <param name="LocalPort">The port the client connected to.</param>
/// <param name="ServerName">The TLS server name (SNI) the client asked for, when a rule read it; otherwise null.</param>
public readonly record struct StrategyContext(TargetSet Targets, IPEndPoint? Client, int LocalPort, string? ServerName = null);

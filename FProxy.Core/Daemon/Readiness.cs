namespace FProxy.Daemon;

/// <summary>Whether a node should get traffic (a load balancer polls it).</summary>
/// <param name="Ready">True when a config is applied, every configured port is bound, and the daemon is not shutting down.</param>
/// <param name="Reasons">Why not, one line each (empty when ready).</param>
/// <param name="UnboundPorts">The configured ports without a listener now.</param>
public sealed record Readiness(bool Ready, IReadOnlyList<string> Reasons, IReadOnlyList<int> UnboundPorts);

namespace FProxy.Daemon;

/// <summary>A point-in-time view of a daemon, for admin endpoints (<see cref="ProxyDaemon.GetStatus"/>).</summary>
/// <param name="Version">The version of the config in force: 1 for the first applied, +1 for each applied after it; 0 before any.</param>
/// <param name="Hash">The content hash of that config (SHA-256, hex), equal for equal configs.</param>
/// <param name="AppliedAt">When it was applied, or null before any.</param>
/// <param name="Readiness">Whether the node should get traffic, and if not, why.</param>
/// <param name="Apps">Every app in force.</param>
public sealed record DaemonStatus(long Version, string Hash, DateTimeOffset? AppliedAt, Readiness Readiness, IReadOnlyList<AppStatus> Apps);

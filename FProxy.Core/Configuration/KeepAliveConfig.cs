namespace FProxy.Configuration;

/// <summary>
/// TCP keepalive probing, applied to the client and the target socket, so that a peer that
/// vanished without a FIN or RST does not hold a connection forever.
/// </summary>
/// <param name="Enabled">Whether keepalive probes are sent.</param>
/// <param name="Idle">Idle time before the first probe (TCP_KEEPIDLE).</param>
/// <param name="Interval">Time between probes (TCP_KEEPINTVL).</param>
/// <param name="Count">Unanswered probes before the connection is dropped (TCP_KEEPCNT).</param>
public sealed record KeepAliveConfig(bool Enabled, TimeSpan Idle, TimeSpan Interval, int Count)
{
    /// <summary>
    /// On: first probe after 60 s idle, then every 10 s, dead after 6 misses (about 2 minutes),
    /// far quicker than the kernel's 2-hour default and still cheap.
    /// </summary>
    public static KeepAliveConfig Default { get; } = new(true, TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(10), 6);

    /// <summary>No keepalive probes.</summary>
    public static KeepAliveConfig Off { get; } = new(false, TimeSpan.Zero, TimeSpan.Zero, 0);
}

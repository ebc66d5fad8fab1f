namespace FProxy.Configuration;

/// <summary>
/// The bounds of config values, shared by the JSON parser (which names the place in the file) and
/// <see cref="ConfigValidator"/> (which checks configs from every source).
/// </summary>
internal static class ConfigLimits
{
    /// <summary>
    /// Timers take at most int.MaxValue milliseconds (about 24.8 days); timeouts are capped below
    /// that at a round number.
    /// </summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(24);

    /// <summary>Idle connections are checked a few times per IdleTimeout: shorter costs too much.</summary>
    public static readonly TimeSpan MinIdleTimeout = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan MinHealthCheckInterval = TimeSpan.FromMilliseconds(10);

    public const int MaxPort = 65535;

    /// <summary>The most ports one range in "Ports" may span ("6000-15999"): a typo such as "1000-60000" should not bind 59,001 sockets.</summary>
    public const int MaxPortRange = 10_000;

    public const int MaxBacklog = 65535;

    public const int MaxConnections = 1_000_000;

    /// <summary>The kernel keeps keepalive times in seconds, in a 16-bit field.</summary>
    public const int MaxKeepAliveSeconds = 32767;

    public const int MaxKeepAliveCount = 127;

    public const int MaxHealthThreshold = 100;

    public const int MaxConsecutiveFailures = 1000;

    public const string IdleTimeoutWhy = ": idle connections are checked a few times per IdleTimeout, which costs more the shorter it is";

    public const string EjectionWhy = "an ejection starts at \"BaseEjection\" and doubles up to \"MaxEjection\"";
}

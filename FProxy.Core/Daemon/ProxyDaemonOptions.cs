using FProxy.Dns;

namespace FProxy.Daemon;

/// <summary>Process-wide settings of a <see cref="ProxyDaemon"/>, bound by the host at start.</summary>
public sealed class ProxyDaemonOptions
{
    /// <summary>Longest wait between attempts to bind a port that is taken. Default 5 s.</summary>
    public TimeSpan MaxBindRetryDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>First wait before retrying a bind; doubles up to <see cref="MaxBindRetryDelay"/>. Default 100 ms.</summary>
    public TimeSpan InitialBindRetryDelay { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>How target names are resolved (nameservers, hosts file, refresh).</summary>
    public DnsOptions Dns { get; set; } = new();

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Dns, nameof(Dns));
        Dns.Validate();
        if (InitialBindRetryDelay <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(InitialBindRetryDelay)} must be positive.", nameof(InitialBindRetryDelay));
        }

        if (MaxBindRetryDelay < InitialBindRetryDelay)
        {
            throw new ArgumentException($"{nameof(MaxBindRetryDelay)} must be at least {nameof(InitialBindRetryDelay)}.", nameof(MaxBindRetryDelay));
        }
    }
}

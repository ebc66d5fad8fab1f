using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Dns;
using FProxy.Health;

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

    /// <summary>Logs every finished connection of every app, as if each had <c>"AccessLog": true</c> (FPROXY_ACCESS_LOG=1).</summary>
    public bool AccessLogAll { get; set; }

    /// <summary>Creates the "FProxy" meter (the host passes its DI factory); null: a meter of the daemon's own.</summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; set; }

    /// <summary>
    /// The transport: <see cref="ProxyTransport.Auto"/> (the default) picks epoll on Linux (x64,
    /// arm64) and the runtime's sockets elsewhere.
    /// </summary>
    public ProxyTransport Transport { get; set; } = ProxyTransport.Auto;

    /// <summary>
    /// Event loops (threads) of the epoll transport; each serves the connections it accepted, from
    /// accept to close. Default: one per processor the process may run on.
    /// </summary>
    public int IoThreads { get; set; } = Environment.ProcessorCount;

    /// <summary>
    /// Whether the epoll transport moves bulk streams with splice(2) through kernel pipes instead
    /// of copying them through user space. Default true.
    /// </summary>
    public bool Splice { get; set; } = true;

    /// <summary>Strategies config may name, the built-ins and any added (see docs/extending.md).</summary>
    public StrategyRegistry Strategies { get; set; } = new();

    /// <summary>Health probe kinds config may name, the built-ins and any added.</summary>
    public ProbeRegistry Probes { get; set; } = new();

    /// <summary>The names config may use with these registries, for <see cref="ConfigParser"/> and subscribers.</summary>
    public ConfigSchema Schema => new(Strategies.Names, Probes.Names);

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        ArgumentNullException.ThrowIfNull(Dns, nameof(Dns));
        Dns.Validate();
        ArgumentNullException.ThrowIfNull(Strategies, nameof(Strategies));
        ArgumentNullException.ThrowIfNull(Probes, nameof(Probes));
        if (!Enum.IsDefined(Transport))
        {
            throw new ArgumentException($"{nameof(Transport)} {Transport} is not a transport.", nameof(Transport));
        }

        if (Transport == ProxyTransport.Epoll && !FProxy.Transport.Linux.EpollTransport.IsSupported)
        {
            throw new ArgumentException($"{nameof(Transport)} {Transport} needs Linux on x64 or arm64; use {ProxyTransport.Sockets} or {ProxyTransport.Auto}.", nameof(Transport));
        }

        if (IoThreads is < 1 or > 1024)
        {
            throw new ArgumentException($"{nameof(IoThreads)} must be 1 to 1024 (it is {IoThreads}).", nameof(IoThreads));
        }

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

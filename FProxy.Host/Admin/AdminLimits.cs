namespace FProxy.Host.Admin;

/// <summary>
/// The admin endpoint's bounds. Probes (/healthz, /readyz), scrapes, /apps and a few event
/// streams need little; these keep a client that misbehaves (connects and sends nothing, streams
/// events and never reads, floods) from taking descriptors the proxied connections need, and
/// from crowding out the probes, which must answer whatever else happens: a liveness probe that
/// times out restarts a healthy proxy. docs/operations.md ("Admin endpoint") explains them.
/// </summary>
internal static class AdminLimits
{
    /// <summary>Open admin connections at most (descriptors taken from the proxy at most).</summary>
    public const int MaxConnections = 64;

    /// <summary>
    /// Requests other than probes being served at once, event streams included. Below
    /// <see cref="MaxConnections"/>, so that at least 16 connections are always free of work:
    /// idle ones give way to a new connection (<see cref="AdminConnectionLimit"/>), so a probe
    /// always finds room.
    /// </summary>
    public const int MaxRequestsInFlight = 48;

    /// <summary>Open /events streams at most, counted in <see cref="MaxRequestsInFlight"/>.</summary>
    public const int MaxSubscribers = 16;

    /// <summary>
    /// How long a connection may wait before its request arrives in full (Kestrel's
    /// RequestHeadersTimeout) and between requests (KeepAliveTimeout, which also times a new
    /// connection's wait for its first byte). HAProxy's "timeout http-request" is commonly 5 s;
    /// load balancers and scrapers send their request as soon as they connect.
    /// </summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long writing one event to a subscriber may take: longer, and the subscriber has stopped
    /// reading (its socket buffers are full); it is dropped.
    /// </summary>
    public static readonly TimeSpan EventWriteTimeout = TimeSpan.FromSeconds(10);

    /// <summary>
    /// SO_SNDBUF of an event stream (the kernel doubles it). Events are a few hundred bytes and
    /// rare; a small buffer bounds the kernel memory a stalled subscriber pins (autotuning would
    /// let it grow to megabytes) and shows the stall after tens of KB rather than megabytes.
    /// </summary>
    public const int EventSendBuffer = 16 * 1024;

    /// <summary>Refusals and drops are logged at most once per this interval, with the count of the others.</summary>
    public static readonly TimeSpan LogInterval = TimeSpan.FromSeconds(10);
}

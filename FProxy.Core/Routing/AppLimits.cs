namespace FProxy.Routing;

/// <summary>
/// The counts behind an app's connection limits. One per app, handed from route to route on
/// every reload, so connections opened under one config still count under the next.
/// </summary>
internal sealed class AppLimits
{
    private SourceLimit? _sources;

    /// <summary>Open connections, against MaxConnections.</summary>
    public ConnectionLimit Open { get; } = new();

    /// <summary>
    /// Connections whose PROXY protocol header or TLS ClientHello is still awaited, against
    /// MaxPeekingConnections: each holds a descriptor and a buffer for up to its timeout while
    /// the client decides how fast to send, so a slow or silent flood must meet a bound.
    /// </summary>
    public ConnectionLimit Peeking { get; } = new();

    /// <summary>
    /// Open connections per source, against MaxConnectionsPerSource; made when the limit is first
    /// used, since apps without it never need the table.
    /// </summary>
    public SourceLimit Sources
    {
        get
        {
            var sources = Volatile.Read(ref _sources);
            return sources ?? Interlocked.CompareExchange(ref _sources, new SourceLimit(), null) ?? _sources;
        }
    }
}

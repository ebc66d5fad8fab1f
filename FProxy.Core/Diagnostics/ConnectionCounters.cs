namespace FProxy.Diagnostics;

/// <summary>
/// The connection counts of one app on one port: accepted, closed and failed by reason, the
/// values behind fproxy.connections.accepted, .active and .failed. Kept by the daemon rather than
/// recorded into the meter, so that the series of a port or app that left the config can leave
/// the exported metrics too (<see cref="ConnectionSeries"/>): the OpenTelemetry SDK keeps every
/// tag set ever recorded on a synchronous instrument for its whole life, while an observable one
/// reports only what its callback returns.
/// </summary>
/// <remarks>
/// The counts are slots of one <see cref="StripedCounter"/>: a connection bumps accepted and
/// closed (and maybe one failure) on the CPU it runs on, so they cost one cache line per stripe,
/// not one each. Adds are one interlocked add each, with no allocation and no lock.
/// </remarks>
internal sealed class ConnectionCounters
{
    private const int AcceptedSlot = 0;
    private const int ClosedSlot = 1;
    private const int FirstFailureSlot = 2;

    /// <summary>The values of the <c>reason</c> tag, in slot order.</summary>
    internal static readonly string[] FailureReasons =
    [
        ProxyMetrics.FailureReason.NoTarget,
        ProxyMetrics.FailureReason.Timeout,
        ProxyMetrics.FailureReason.Refused,
        ProxyMetrics.FailureReason.Reset,
        ProxyMetrics.FailureReason.Limit,
        ProxyMetrics.FailureReason.ProxyMalformed,
        ProxyMetrics.FailureReason.ProxyTimeout,
        ProxyMetrics.FailureReason.ProxyUntrusted,
        ProxyMetrics.FailureReason.SourceLimit,
        ProxyMetrics.FailureReason.PeekLimit,
    ];

    private readonly StripedCounter _counts;

    public ConnectionCounters(string app, int port)
        : this(app, port, StripedCounter.WithSlots(FirstFailureSlot + FailureReasons.Length))
    {
    }

    /// <summary>Counters over a given number of stripes, a power of two (tests force sharing with 1).</summary>
    internal ConnectionCounters(string app, int port, int stripes)
        : this(app, port, new StripedCounter(stripes, FirstFailureSlot + FailureReasons.Length))
    {
    }

    private ConnectionCounters(string app, int port, StripedCounter counts)
    {
        App = app;
        Port = port;
        PortTag = port;
        _counts = counts;
    }

    /// <summary>The app's name: the <c>app</c> tag.</summary>
    public string App { get; }

    /// <summary>The listener's port.</summary>
    public int Port { get; }

    /// <summary>The port, boxed once: the <c>port</c> tag, with no allocation per collection.</summary>
    public object PortTag { get; }

    /// <summary>A connection was accepted.</summary>
    public void Accepted() => _counts.Add(AcceptedSlot, 1);

    /// <summary>A connection ended (after <see cref="Failed"/>, when it failed).</summary>
    public void Closed() => _counts.Add(ClosedSlot, 1);

    /// <summary>A connection failed; <paramref name="reason"/> is one of <see cref="FailureReasons"/>.</summary>
    public void Failed(string reason)
    {
        var index = Array.IndexOf(FailureReasons, reason);
        if (index < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(reason), reason, "Not a failure reason of fproxy.connections.failed.");
        }

        _counts.Add(FirstFailureSlot + index, 1);
    }

    /// <summary>Connections accepted so far.</summary>
    public long ReadAccepted() => _counts.Read(AcceptedSlot);

    /// <summary>
    /// Connections open now. Closes are read before accepts: every close follows its accept, so
    /// adds that race the read can only make the result high by a connection just accepted,
    /// never negative.
    /// </summary>
    public long ReadActive()
    {
        var closed = _counts.Read(ClosedSlot);
        return _counts.Read(AcceptedSlot) - closed;
    }

    /// <summary>Connections that failed with <see cref="FailureReasons"/>[<paramref name="index"/>].</summary>
    public long ReadFailed(int index) => _counts.Read(FirstFailureSlot + index);
}

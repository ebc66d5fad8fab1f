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
/// Striped per CPU as <see cref="StripedCounter"/> is, but with every count of a stripe on the
/// same cache line: a connection bumps accepted and closed (and maybe one failure) on the CPU it
/// runs on, so the seven counts cost one line per stripe, not seven. Adds are one interlocked add
/// each, with no allocation and no lock.
/// </remarks>
internal sealed class ConnectionCounters
{
    private const int LineLongs = 8; // A 64-byte cache line holds eight longs.
    private const int MaxStripes = 16;
    private const int AcceptedSlot = 0;
    private const int ClosedSlot = 1;
    private const int FirstFailureSlot = 2;

    /// <summary>The reasons of fproxy.connections.failed, in slot order.</summary>
    internal static readonly string[] FailureReasons =
    [
        ProxyMetrics.FailureReason.NoTarget,
        ProxyMetrics.FailureReason.Timeout,
        ProxyMetrics.FailureReason.Refused,
        ProxyMetrics.FailureReason.Reset,
        ProxyMetrics.FailureReason.Limit,
    ];

    // Stripe i's counts live at (i + 1) * LineLongs + slot: the first line is left empty, so no
    // stripe shares a line with the array's header or with the object before it on the heap.
    private readonly long[] _cells;
    private readonly int _mask;

    public ConnectionCounters(string app, int port)
        : this(app, port, (int)Math.Min(MaxStripes, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Environment.ProcessorCount)))
    {
    }

    /// <summary>Counters of a given number of stripes, a power of two (tests force sharing with 1).</summary>
    internal ConnectionCounters(string app, int port, int stripes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(stripes, 1);
        if (!System.Numerics.BitOperations.IsPow2(stripes))
        {
            throw new ArgumentOutOfRangeException(nameof(stripes), stripes, "Stripes must be a power of two.");
        }

        App = app;
        Port = port;
        PortTag = port;
        _mask = stripes - 1;
        _cells = new long[(stripes + 2) * LineLongs];
    }

    public string App { get; }

    public int Port { get; }

    /// <summary>The port, boxed once, for metric tags that must not allocate.</summary>
    public object PortTag { get; }

    public void Accepted() => Add(AcceptedSlot);

    public void Closed() => Add(ClosedSlot);

    /// <summary>A connection that failed; <paramref name="reason"/> is one of <see cref="ProxyMetrics.FailureReason"/>.</summary>
    public void Failed(string reason) => Add(FirstFailureSlot + ReasonIndex(reason));

    /// <summary>Connections accepted so far.</summary>
    public long ReadAccepted() => Read(AcceptedSlot);

    /// <summary>
    /// Connections open now. Closes are read before accepts: every close follows its accept, so
    /// adds that race the read can only make the result high by a connection just accepted,
    /// never negative.
    /// </summary>
    public long ReadActive()
    {
        var closed = Read(ClosedSlot);
        return Read(AcceptedSlot) - closed;
    }

    /// <summary>Failures so far with the reason at <paramref name="index"/> of <see cref="FailureReasons"/>.</summary>
    public long ReadFailed(int index) => Read(FirstFailureSlot + index);

    private static int ReasonIndex(string reason) => reason switch
    {
        ProxyMetrics.FailureReason.NoTarget => 0,
        ProxyMetrics.FailureReason.Timeout => 1,
        ProxyMetrics.FailureReason.Refused => 2,
        ProxyMetrics.FailureReason.Reset => 3,
        ProxyMetrics.FailureReason.Limit => 4,
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "Not a failure reason of fproxy.connections.failed."),
    };

    /// <summary>Adds to the stripe of the CPU the caller runs on (a hint: any stripe is correct).</summary>
    private void Add(int slot) =>
        Interlocked.Increment(ref _cells[((Thread.GetCurrentProcessorId() & _mask) + 1) * LineLongs + slot]);

    private long Read(int slot)
    {
        long sum = 0;
        for (var i = 0; i <= _mask; i++)
        {
            sum += Volatile.Read(ref _cells[(i + 1) * LineLongs + slot]);
        }

        return sum;
    }
}

namespace FProxy.Diagnostics;

/// <summary>
/// Lets one message through per interval and counts the rest, so an event that can repeat per
/// connection (every client failing while all targets are down) cannot flood the log. Lock-free:
/// callers race on one timestamp.
/// </summary>
internal sealed class LogLimiter(TimeProvider time, TimeSpan interval)
{
    private long _next;
    private int _suppressed;

    /// <summary>True when this occurrence should be logged, with how many were held back since the last one.</summary>
    public bool ShouldLog(out int suppressed)
    {
        var now = time.GetTimestamp();
        var next = Volatile.Read(ref _next);
        if (now >= next && Interlocked.CompareExchange(ref _next, now + (long)(interval.TotalSeconds * time.TimestampFrequency), next) == next)
        {
            suppressed = Interlocked.Exchange(ref _suppressed, 0);
            return true;
        }

        Interlocked.Increment(ref _suppressed);
        suppressed = 0;
        return false;
    }
}

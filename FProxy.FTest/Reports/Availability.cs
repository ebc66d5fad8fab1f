using System.Globalization;

namespace FProxy.FTest.Reports;

/// <summary>
/// Availability over a watch: attempts, failures, and outages. An outage starts at the first
/// failed attempt and ends at the next successful one (or at the end of the watch).
/// </summary>
internal sealed class Availability
{
    private readonly Lock _lock = new();
    private readonly List<WatchFailure> _failures = [];
    private long? _outageStart;
    private TimeSpan _longest;

    public int Attempts { get; private set; }

    public int Failed
    {
        get
        {
            lock (_lock)
            {
                return _failures.Count;
            }
        }
    }

    public int Succeeded => Attempts - Failed;

    public double SuccessRate => Attempts == 0 ? 1 : (double)Succeeded / Attempts;

    /// <summary>Records an attempt that started at <paramref name="timestamp"/> (Stopwatch ticks).</summary>
    public void Add(long timestamp, WatchFailure? failure)
    {
        lock (_lock)
        {
            Attempts++;
            if (failure is not null)
            {
                _failures.Add(failure);
                _outageStart ??= timestamp;
            }
            else if (_outageStart is { } start)
            {
                _longest = Max(_longest, System.Diagnostics.Stopwatch.GetElapsedTime(start, timestamp));
                _outageStart = null;
            }
        }
    }

    /// <summary>The longest outage so far, counting one still going on up to <paramref name="now"/>.</summary>
    public TimeSpan LongestOutage(long now)
    {
        lock (_lock)
        {
            return _outageStart is { } start ? Max(_longest, System.Diagnostics.Stopwatch.GetElapsedTime(start, now)) : _longest;
        }
    }

    public WatchFailure[] RecentFailures(int count)
    {
        lock (_lock)
        {
            return [.. _failures.TakeLast(count)];
        }
    }

    public string Rate() => (SuccessRate * 100).ToString("0.00", CultureInfo.InvariantCulture) + "%";

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}

using System.Globalization;

namespace FProxy.Transport;

/// <summary>
/// How many proxied connections the process can hold without running out of file descriptors,
/// derived from the open-files limit as HAProxy derives its maxconn. Listeners stop accepting at
/// the budget instead of running into EMFILE, because the runtime needs descriptors too: CoreCLR
/// aborts the process ("Out of memory.") when it cannot open /proc/self/status to start a
/// thread, which was seen here before any accept failed.
/// </summary>
internal sealed class ConnectionBudget
{
    /// <summary>How many connections must have ended since the peak for a spike's memory to be worth a collection.</summary>
    internal const int SpikeConnections = 1000;

    private int _active;
    private int _peak; // Most connections at once since the last collection after a spike.
    private int _collectAgain; // 1: the last spike check collected, the next one collects once more.
    private ITimer? _spikeCheck;
    private TaskCompletionSource? _released; // While a loop waits for a share (WhenReleasedAsync).

    public ConnectionBudget(int max)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        Max = max;
    }

    /// <summary>The process-wide budget, computed when first used (after the host raised its limit).</summary>
    public static ConnectionBudget Process => LazyProcess.Value;

    public int Max { get; }

    public int Active => Volatile.Read(ref _active);

    /// <summary>The open-files limit the budget came from (0 when unknown).</summary>
    public long OpenFilesLimit { get; private init; }

    /// <summary>Descriptors open when the budget was computed.</summary>
    public int OpenAtStart { get; private init; }

    private static Lazy<ConnectionBudget> LazyProcess { get; } = new(FromLimits);

    /// <summary>Takes one connection's share (two descriptors); false when the budget is spent.</summary>
    public bool TryAcquire()
    {
        var active = Interlocked.Increment(ref _active);
        if (active > Max)
        {
            Interlocked.Decrement(ref _active);
            return false;
        }

        if (active > Volatile.Read(ref _peak))
        {
            // Not a compare-exchange loop: a racing smaller count may win, which only makes the
            // next spike check see a slightly lower peak.
            Volatile.Write(ref _peak, active);
        }

        return true;
    }

    /// <summary>
    /// Whether at least <see cref="SpikeConnections"/> connections ended since the peak: then the
    /// peak starts again from what is open now, and the caller collects.
    /// </summary>
    internal bool SpikeEnded()
    {
        var active = Active;
        if (Volatile.Read(ref _peak) - active < SpikeConnections)
        {
            return false;
        }

        Volatile.Write(ref _peak, active);
        return true;
    }

    /// <summary>One spike check: collect when a spike ended, and once more at the check after.</summary>
    internal bool ShouldCollect()
    {
        var again = Interlocked.Exchange(ref _collectAgain, 0) == 1;
        if (SpikeEnded())
        {
            Volatile.Write(ref _collectAgain, 1);
            return true;
        }

        return again;
    }

    /// <summary>
    /// Every <paramref name="period"/>, a full compacting collection when a spike of connections
    /// ended (<see cref="SpikeEnded"/>), and another one period later. The objects of thousands of
    /// closed connections are old by then, and the GC collects its oldest generation only when
    /// that generation's own budget runs out, which an idle proxy's small allocations may take
    /// hours to reach: until then the process keeps the spike's memory. The second pass takes
    /// what had a finalizer to run first (the runtime's socket operations). A pass pauses the
    /// process for as long as a full collection of what is live takes; steady traffic never
    /// causes one.
    /// </summary>
    private void CollectAfterSpikes(TimeProvider time, TimeSpan period) =>
        _spikeCheck = time.CreateTimer(
            static state =>
            {
                if (((WeakReference<ConnectionBudget>)state!).TryGetTarget(out var budget) && budget.ShouldCollect())
                {
                    GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
                }
            },
            new WeakReference<ConnectionBudget>(this),
            period,
            period);

    public void Release()
    {
        Interlocked.Decrement(ref _active);

        // Read after the decrement (a full fence), as WhenReleasedAsync reads Active after
        // publishing its wait: one of the two sees the other. Only a spent budget pays more than
        // this read.
        if (Volatile.Read(ref _released) is { } released)
        {
            Wake(released);
        }
    }

    /// <summary>
    /// For a loop whose <see cref="TryAcquire"/> failed: completes when a share may be free again,
    /// at the next <see cref="Release"/> (at once if one came already), so accepting resumes as
    /// soon as a connection ends instead of on a timer.
    /// </summary>
    public Task WhenReleasedAsync()
    {
        var released = Volatile.Read(ref _released);
        if (released is null)
        {
            // Continuations run on the thread pool: Release is called on the socket threads.
            var fresh = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            released = Interlocked.CompareExchange(ref _released, fresh, null) ?? fresh;
        }

        // A Release since the caller's TryAcquire failed may have found no wait to complete.
        if (Active < Max)
        {
            Wake(released);
        }

        return released.Task;
    }

    private void Wake(TaskCompletionSource released)
    {
        // Taken out first, so the next wait gets a new one; of two wakers, one completes it.
        if (Interlocked.CompareExchange(ref _released, null, released) == released)
        {
            released.TrySetResult();
        }
    }

    /// <summary>
    /// (limit - open now - headroom) / 2: each connection holds a client and a target socket; the
    /// headroom (a quarter of what is free, 32..256) is for the runtime (it keeps two descriptors
    /// per assembly it loads, and loads more on the first connections), DNS, reloads and logs.
    /// </summary>
    internal static int Compute(long limit, int open)
    {
        var free = Math.Max(0, limit - open);
        var headroom = Math.Clamp(free / 4, 32, 256);
        return (int)Math.Clamp((free - headroom) / 2, 1, int.MaxValue / 2);
    }

    private static ConnectionBudget FromLimits()
    {
        var limit = ReadOpenFilesLimit();
        var open = limit > 0 ? CountOpenDescriptors() : 0;
        var budget = limit > 0
            ? new ConnectionBudget(Compute(limit, open)) { OpenFilesLimit = limit, OpenAtStart = open }
            : new ConnectionBudget(int.MaxValue / 2);
        budget.CollectAfterSpikes(TimeProvider.System, PinnedBlockMemoryPool.EvictionPeriod);
        return budget;
    }

    /// <summary>The soft "Max open files" from /proc/self/limits; 0 where unknown or unlimited.</summary>
    private static long ReadOpenFilesLimit()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal))
                {
                    continue;
                }

                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return fields.Length > 0 && long.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out var soft) ? soft : 0;
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return 0;
    }

    private static int CountOpenDescriptors()
    {
        try
        {
            return Directory.EnumerateFileSystemEntries("/proc/self/fd").Count();
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }
    }
}

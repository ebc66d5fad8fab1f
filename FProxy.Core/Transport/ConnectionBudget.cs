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
    private int _active;
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
        if (Interlocked.Increment(ref _active) > Max)
        {
            Interlocked.Decrement(ref _active);
            return false;
        }

        return true;
    }

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
        if (limit <= 0)
        {
            return new ConnectionBudget(int.MaxValue / 2);
        }

        var open = CountOpenDescriptors();
        return new ConnectionBudget(Compute(limit, open)) { OpenFilesLimit = limit, OpenAtStart = open };
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

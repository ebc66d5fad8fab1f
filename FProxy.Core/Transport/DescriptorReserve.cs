using Microsoft.Win32.SafeHandles;

namespace FProxy.Transport;

/// <summary>
/// A few descriptors held open on /dev/null, handed back when the process runs out (EMFILE).
/// </summary>
/// <remarks>
/// Backing off the accept loop is not enough on its own: the runtime needs descriptors too. Seen
/// here: CoreCLR opens /proc/self/status when it starts a thread, and when that fails with EMFILE
/// it prints "Out of memory." and aborts the whole process (AcceptStarvationTests). Releasing the
/// reserve at the first failed accept leaves room for the runtime while the listeners back off;
/// it is taken again once accepts succeed.
/// </remarks>
internal static class DescriptorReserve
{
    private const int Size = 8;
    private static readonly Lock Gate = new();
    private static readonly List<SafeFileHandle> Held = [];
    private static volatile bool _full;
    private static int _releasing;
    private static int _opening;

    /// <summary>Whether the reserve is whole (or not kept on this OS): cheap, for every accept.</summary>
    public static bool IsFull => _full || (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS());

    /// <summary>Descriptors held now (tests).</summary>
    public static int Count
    {
        get
        {
            lock (Gate)
            {
                return Held.Count;
            }
        }
    }

    /// <summary>Tops the reserve up; quietly holds fewer if descriptors are short.</summary>
    public static void Fill()
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        lock (Gate)
        {
            while (Held.Count < Size)
            {
                try
                {
                    Held.Add(File.OpenHandle("/dev/null", FileMode.Open, FileAccess.Read));
                }
                catch (IOException)
                {
                    return; // Out of descriptors already: try again after the next recovery.
                }
                catch (UnauthorizedAccessException)
                {
                    return;
                }
            }

            _full = true;
        }
    }

    /// <summary>Gives every reserved descriptor back to the process.</summary>
    /// <summary>
    /// Before a call of the epoll transport that opens a descriptor (accept4, socket): false, and
    /// nothing may be opened, while the reserve is out or being given back. Its loops run in
    /// parallel with the one that met EMFILE, and without this one of them would take the
    /// descriptors meant for the runtime (seen: CoreCLR's "Out of memory." abort). Only an accept
    /// loop that backed off takes the reserve back (<see cref="Fill"/>), so the runtime gets its
    /// window. Pair a true with <see cref="EndOpen"/>.
    /// </summary>
    public static bool TryBeginOpen()
    {
        if (!IsFull)
        {
            return false;
        }

        // A full fence, then the check: Release raises its flag, then waits for opens in flight.
        Interlocked.Increment(ref _opening);
        if (Volatile.Read(ref _releasing) != 0 || !IsFull)
        {
            Interlocked.Decrement(ref _opening);
            return false;
        }

        return true;
    }

    /// <summary>The open that <see cref="TryBeginOpen"/> allowed has returned.</summary>
    public static void EndOpen() => Interlocked.Decrement(ref _opening);

    public static void Release()
    {
        // No open may be in flight while the reserve is freed, nor start until it is whole again.
        Interlocked.Exchange(ref _releasing, 1);
        var wait = default(SpinWait);
        while (Volatile.Read(ref _opening) > 0)
        {
            wait.SpinOnce();
        }

        lock (Gate)
        {
            foreach (var handle in Held)
            {
                handle.Dispose();
            }

            Held.Clear();
            _full = false;
        }

        Volatile.Write(ref _releasing, 0);
    }
}

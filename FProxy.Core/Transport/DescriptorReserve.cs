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
        }
    }

    /// <summary>Gives every reserved descriptor back to the process.</summary>
    public static void Release()
    {
        lock (Gate)
        {
            foreach (var handle in Held)
            {
                handle.Dispose();
            }

            Held.Clear();
        }
    }
}

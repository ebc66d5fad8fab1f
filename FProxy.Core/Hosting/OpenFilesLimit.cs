using System.Runtime.InteropServices;

namespace FProxy.Hosting;

/// <summary>
/// Raises the soft RLIMIT_NOFILE to the hard limit at start, as Go's runtime and HAProxy do: a
/// proxied connection costs two descriptors, and the common soft default (1024) would cap a
/// proxy at ~450 connections although the hard limit allows far more.
/// </summary>
internal static partial class OpenFilesLimit
{
    private const int RlimitNofile = 7; // Linux <asm-generic/resource.h>

    /// <summary>Raises the soft limit; returns (before, after, hard), or null where unsupported.</summary>
    public static (ulong Before, ulong After, ulong Hard)? Raise()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        if (GetRLimit(RlimitNofile, out var limit) != 0)
        {
            return null;
        }

        var before = limit.Current;
        if (limit.Current < limit.Maximum)
        {
            var raised = limit with { Current = limit.Maximum };
            if (SetRLimit(RlimitNofile, in raised) == 0)
            {
                return (before, raised.Current, limit.Maximum);
            }
        }

        return (before, before, limit.Maximum);
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetRLimit(int resource, out RLimit limit);

    [LibraryImport("libc", EntryPoint = "setrlimit", SetLastError = true)]
    private static partial int SetRLimit(int resource, in RLimit limit);

    [StructLayout(LayoutKind.Sequential)]
    private readonly record struct RLimit(ulong Current, ulong Maximum);
}

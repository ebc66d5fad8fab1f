using System.ComponentModel;
using System.Runtime.InteropServices;

namespace FProxy.Tests.Configuration;

/// <summary>
/// Lays out a directory the way the kubelet projects a ConfigMap: the data lives in a
/// timestamped directory, <c>..data</c> links to it, and <c>config.json</c> links to
/// <c>..data/config.json</c>. An update writes a new directory, points a temp link at it and
/// renames the temp link over <c>..data</c> (atomic), then removes the old directory.
/// </summary>
internal static class KubernetesVolume
{
    public static void Create(string dir, string version, string json)
    {
        WriteVersion(dir, version, json);
        Directory.CreateSymbolicLink(Path.Combine(dir, "..data"), version);
        File.CreateSymbolicLink(Path.Combine(dir, "config.json"), Path.Combine("..data", "config.json"));
    }

    public static void Swap(string dir, string version, string json)
    {
        var dataLink = Path.Combine(dir, "..data");
        var old = new DirectoryInfo(dataLink).LinkTarget!;
        WriteVersion(dir, version, json);
        var tempLink = Path.Combine(dir, "..data_tmp");
        Directory.CreateSymbolicLink(tempLink, version);
        Rename(tempLink, dataLink);
        Directory.Delete(Path.Combine(dir, old), recursive: true);
    }

    private static void WriteVersion(string dir, string version, string json)
    {
        var versionDir = Directory.CreateDirectory(Path.Combine(dir, version)).FullName;
        File.WriteAllText(Path.Combine(versionDir, "config.json"), json);
    }

    /// <summary>
    /// rename(2) of a symlink over another, as the kubelet does. File.Move refuses a link to a
    /// directory, and Directory.Move will not replace an existing target.
    /// </summary>
    private static void Rename(string from, string to)
    {
        if (rename(from, to) != 0)
        {
            throw new Win32Exception(Marshal.GetLastPInvokeError());
        }
    }

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false, ThrowOnUnmappableChar = true)]
    [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
    private static extern int rename(string oldPath, string newPath);
}

namespace FProxy.Configuration;

/// <summary>
/// What identifies one version of a file without reading it: the path after following every
/// symlink (a Kubernetes ConfigMap swap points ..data at a new directory), plus length and last
/// write time (an in-place write or a rename over the file). .NET exposes no inode number, so
/// the resolved path stands in for it; directory events remain the primary trigger.
/// </summary>
/// <param name="RealPath">The path with every symlink resolved, like realpath(3).</param>
/// <param name="Length">File length in bytes.</param>
/// <param name="LastWriteUtc">Last write time.</param>
internal sealed record FileIdentity(string RealPath, long Length, DateTime LastWriteUtc)
{
    /// <summary>Linux gives up after 40 links (ELOOP); so do we.</summary>
    private const int MaxLinks = 40;

    /// <summary>The identity of the file at <paramref name="path"/>, or null when it does not exist or cannot be resolved.</summary>
    public static FileIdentity? Of(string path)
    {
        try
        {
            var realPath = ResolveRealPath(Path.GetFullPath(path));
            if (realPath is null)
            {
                return null;
            }

            var info = new FileInfo(realPath);
            return info.Exists ? new FileIdentity(realPath, info.Length, info.LastWriteTimeUtc) : null;
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Follows symlinks in every component of an absolute path; null on a link loop.</summary>
    internal static string? ResolveRealPath(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath) ?? string.Empty;
        var pending = new Stack<string>(Split(fullPath[root.Length..]).Reverse());
        var current = root;
        var links = 0;
        while (pending.TryPop(out var part))
        {
            var candidate = Path.Combine(current, part);
            var target = new FileInfo(candidate).LinkTarget;
            if (target is null)
            {
                current = candidate;
                continue;
            }

            if (++links > MaxLinks)
            {
                return null;
            }

            // current has no links left in it, so resolving ".." in the target lexically is exact.
            var resolved = Path.GetFullPath(target, current);
            var resolvedRoot = Path.GetPathRoot(resolved) ?? string.Empty;
            foreach (var next in Split(resolved[resolvedRoot.Length..]).Reverse())
            {
                pending.Push(next);
            }

            current = resolvedRoot;
        }

        return current;
    }

    private static string[] Split(string relative) =>
        relative.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
}

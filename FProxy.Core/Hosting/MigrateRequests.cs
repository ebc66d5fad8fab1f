namespace FProxy.Hosting;

/// <summary>
/// Reads Linux's net.ipv4.tcp_migrate_req, which decides what a process handover costs. Two
/// processes share a port through SO_REUSEPORT; when the old one closes its listener, the
/// connections the kernel already queued on it (handshakes done or in progress, never accepted)
/// are reset unless the setting is 1, in which case the kernel moves them to the other listener of
/// the port, so the new process accepts them.
/// </summary>
/// <remarks>
/// The setting belongs to a network namespace (since Linux 5.14), and /proc/sys/net shows the one
/// of the process reading it: a proxy in a container reads its container's value, the one that
/// applies to its listeners. The value is read, never written: changing a sysctl is the
/// operator's decision, and it needs privileges the proxy should not have.
/// </remarks>
internal static class MigrateRequests
{
    /// <summary>Where the kernel exposes the setting for the reading process's network namespace.</summary>
    public const string SettingPath = "/proc/sys/net/ipv4/tcp_migrate_req";

    /// <summary>
    /// Whether the kernel moves queued connections to another listener of the port when one closes:
    /// true or false from <paramref name="path"/>, or null when the setting cannot be read (not
    /// Linux, a kernel before 5.14, /proc not mounted).
    /// </summary>
    public static bool? IsEnabled(string path = SettingPath)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // The kernel writes "0\n" or "1\n" (a u8 limited to 0..1); anything else is not a value we know.
        return int.TryParse(text.AsSpan().Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value != 0
            : null;
    }
}

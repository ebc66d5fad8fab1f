using System.Net;
using Microsoft.Extensions.Logging;

namespace FProxy.Dns;

/// <summary>
/// The hosts file (<c>/etc/hosts</c> format), which DnsClient does not read. Re-read when its last write
/// time or length changes; lookups read an immutable snapshot without locking.
/// </summary>
internal sealed class HostsFile
{
    private static readonly Dictionary<string, IPAddress[]> Empty = new(StringComparer.OrdinalIgnoreCase);

    private readonly string _path;
    private readonly ILogger _logger;
    private readonly Lock _reloadLock = new();
    private volatile Dictionary<string, IPAddress[]> _names = Empty;
    private volatile int _version;
    private (DateTime LastWrite, long Length)? _stamp;

    public HostsFile(string path, ILogger logger)
    {
        _path = path;
        _logger = logger;
    }

    /// <summary>Incremented each time the file is (re)loaded with a change of stamp.</summary>
    public int Version => _version;

    /// <summary>
    /// Looks <paramref name="host"/> up (case-insensitively), re-reading the file first if it changed.
    /// <paramref name="version"/> is the <see cref="Version"/> the answer is at least as new as.
    /// </summary>
    public bool TryLookup(string host, out IPAddress[] addresses, out int version)
    {
        ReloadIfChanged();

        // Version before names (the reload writes them in the opposite order): the names read are at
        // least as new as the version reported, so a watcher comparing versions never misses a change.
        version = _version;
        return _names.TryGetValue(host, out addresses!);
    }

    /// <summary>Re-reads the file if its stamp changed since the last read; true if it did.</summary>
    public bool ReloadIfChanged()
    {
        if (_path.Length == 0)
        {
            return false;
        }

        var info = new FileInfo(_path);
        (DateTime, long) stamp = info.Exists ? (info.LastWriteTimeUtc, info.Length) : (DateTime.MinValue, -1);
        lock (_reloadLock)
        {
            if (_stamp == stamp)
            {
                return false;
            }

            Dictionary<string, IPAddress[]> names;
            if (stamp.Item2 < 0)
            {
                names = Empty; // No hosts file (a minimal container): nothing to honour.
            }
            else
            {
                try
                {
                    using var reader = new StreamReader(_path);
                    names = Parse(reader);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    DnsLog.HostsFileUnreadable(_logger, _path, e);
                    return false; // Keep the last snapshot and try again next time.
                }
            }

            _stamp = stamp;
            _names = names;
            _version++;
            DnsLog.HostsFileLoaded(_logger, _path, names.Count);
            return true;
        }
    }

    /// <summary>
    /// Parses hosts-file text: <c>address name [alias...]</c> per line, <c>#</c> starts a comment, names
    /// are case-insensitive, and a name on several lines gets the addresses of all of them (as glibc
    /// does with "multi on", its default). Lines whose address does not parse are skipped.
    /// </summary>
    public static Dictionary<string, IPAddress[]> Parse(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var collected = new Dictionary<string, List<IPAddress>>(StringComparer.OrdinalIgnoreCase);
        while (reader.ReadLine() is string line)
        {
            int hash = line.IndexOf('#', StringComparison.Ordinal);
            if (hash >= 0)
            {
                line = line[..hash];
            }

            string[] fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length < 2 || !IPAddress.TryParse(fields[0], out IPAddress? address))
            {
                continue;
            }

            for (int i = 1; i < fields.Length; i++)
            {
                string name = fields[i].TrimEnd('.');
                if (!collected.TryGetValue(name, out List<IPAddress>? list))
                {
                    collected[name] = list = [];
                }

                list.Add(address);
            }
        }

        var names = new Dictionary<string, IPAddress[]>(collected.Count, StringComparer.OrdinalIgnoreCase);
        foreach (KeyValuePair<string, List<IPAddress>> pair in collected)
        {
            names[pair.Key] = AddressOrder.Interleave(pair.Value);
        }

        return names;
    }
}

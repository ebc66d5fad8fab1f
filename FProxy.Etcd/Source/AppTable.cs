using FProxy.Configuration;

namespace FProxy.Etcd.Source;

/// <summary>
/// The apps stored under the prefix, key by key, and the one rule that turns them into a snapshot
/// every node computes alike: a bad value rejects that app only (its last good version keeps
/// running), and of two apps that claim one port or one name, the key created first keeps it.
/// </summary>
/// <remarks>Not thread-safe: one session owns it.</remarks>
internal sealed class AppTable(string prefix, ConfigSchema schema, IReadOnlyDictionary<string, AppVersion>? seeded = null)
{
    private readonly Dictionary<string, AppEntry> _entries = new(StringComparer.Ordinal);

    // Last good versions read from the copy on disk, by app name: a key that is invalid at the
    // first read after a restart still has the version this node served before.
    private readonly IReadOnlyDictionary<string, AppVersion> _seeded = seeded ?? new Dictionary<string, AppVersion>(StringComparer.OrdinalIgnoreCase);

    public int Count => _entries.Count;

    /// <summary>Whether <paramref name="key"/> is stored now.</summary>
    public bool Contains(string key) => _entries.ContainsKey(key);

    /// <summary>Replaces the whole table with a fresh read of the range, keeping each key's last good version.</summary>
    public void Replace(IEnumerable<(string Key, string Value, long CreateRevision)> keys)
    {
        var previous = new Dictionary<string, AppEntry>(_entries, StringComparer.Ordinal);
        _entries.Clear();
        foreach (var (key, value, created) in keys)
        {
            previous.TryGetValue(key, out var old);
            _entries[key] = Read(key, value, created, old);
        }
    }

    /// <summary>A key was written. Its last good version stays the one served until a snapshot serves the new one.</summary>
    public void Put(string key, string value, long createRevision)
    {
        _entries.TryGetValue(key, out var old);
        _entries[key] = Read(key, value, createRevision, old);
    }

    /// <summary>A key was deleted.</summary>
    public void Delete(string key) => _entries.Remove(key);

    /// <summary>
    /// The snapshot to serve: every app that is valid and keeps its ports and name, else its last
    /// good version when that one does; and every key's problems (empty for the keys that apply as stored).
    /// </summary>
    public TableSnapshot Build()
    {
        var apps = new List<AppVersion>();
        var errors = new Dictionary<string, KeyErrors>(StringComparer.Ordinal);
        var ports = new Dictionary<int, AppEntry>();
        var names = new Dictionary<string, AppEntry>(StringComparer.OrdinalIgnoreCase);
        foreach (var entry in _entries.Values.OrderBy(static e => e.CreateRevision).ThenBy(static e => e.Key, StringComparer.Ordinal).ToList())
        {
            var problems = new List<string>(entry.Errors);
            var fallback = entry.LastGood ?? (_seeded.TryGetValue(entry.Name, out var seed) ? seed : null);
            var chosen = entry.App is { } app ? new AppVersion(app, entry.Json) : fallback;
            if (chosen is not null && Conflict(chosen.App, entry, ports, names) is { } conflict)
            {
                problems.Add(conflict);
                chosen = !ReferenceEquals(chosen, fallback) && fallback is not null && Conflict(fallback.App, entry, ports, names) is null
                    ? fallback
                    : null;
            }

            if (chosen is not null)
            {
                foreach (var port in chosen.App.Ports)
                {
                    ports[port] = entry;
                }

                names[chosen.App.Name] = entry;
                apps.Add(chosen);

                // What is served is what a later bad version falls back to.
                if (!ReferenceEquals(chosen.App, entry.LastGood?.App))
                {
                    _entries[entry.Key] = entry with { LastGood = chosen };
                }
            }

            if (problems.Count > 0)
            {
                errors[entry.Key] = new KeyErrors(entry.Name, problems, Serving: chosen is not null);
            }
        }

        var config = new ProxyConfig { Apps = new EquatableList<AppConfig>([.. apps.Select(static a => a.App)]) };
        return new TableSnapshot(config, apps, errors);
    }

    /// <summary>Why <paramref name="app"/> cannot have its ports or name: a key created earlier has them.</summary>
    private static string? Conflict(AppConfig app, AppEntry entry, Dictionary<int, AppEntry> ports, Dictionary<string, AppEntry> names)
    {
        if (names.TryGetValue(app.Name, out var namesake))
        {
            return $"name \"{app.Name}\" is already used by key {namesake.Key} (created first, at revision {namesake.CreateRevision})";
        }

        foreach (var port in app.Ports)
        {
            if (ports.TryGetValue(port, out var owner))
            {
                return $"port {port} is already used by app \"{owner.Name}\" (key {owner.Key}, created first, at revision {owner.CreateRevision}; key {entry.Key} was created at revision {entry.CreateRevision})";
            }
        }

        return null;
    }

    private AppEntry Read(string key, string value, long created, AppEntry? old)
    {
        var name = EtcdLayout.LastSegment(key);
        var lastGood = old?.LastGood;
        if (name.Length == 0 || key.AsSpan(EtcdLayout.AppsPrefix(prefix).Length).Contains('/'))
        {
            return new AppEntry(key, name, created, value, null,
                [$"an app's key is {EtcdLayout.AppsPrefix(prefix)}<name>, one segment after apps/"], lastGood);
        }

        try
        {
            var app = ConfigParser.ParseApp(value, key, schema);
            if (!string.Equals(app.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return new AppEntry(key, name, created, value, null,
                    [$"the key's last segment \"{name}\" differs from the app's \"Name\" \"{app.Name}\"; they must match (case-insensitively)"], lastGood);
            }

            return new AppEntry(key, name, created, value, app, [], lastGood);
        }
        catch (ConfigException e)
        {
            return new AppEntry(key, name, created, value, null, e.Errors, lastGood);
        }
    }
}

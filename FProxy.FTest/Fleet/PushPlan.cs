using FProxy.Etcd;

namespace FProxy.FTest.Fleet;

/// <summary>
/// What <c>ftest fleet push</c> does to make the store hold exactly the file's apps: the keys to
/// put and delete, and the keys it leaves alone, against the store as it was read.
/// </summary>
internal sealed class PushPlan
{
    private PushPlan(StoredApps stored, IReadOnlyList<AppChange> changes, IReadOnlyList<string> unchanged)
    {
        Stored = stored;
        Changes = changes;
        Unchanged = unchanged;
    }

    /// <summary>The store as read: the push is committed only if it is still so.</summary>
    public StoredApps Stored { get; }

    /// <summary>Puts and deletes, ordered by key.</summary>
    public IReadOnlyList<AppChange> Changes { get; }

    /// <summary>Keys whose stored value already equals the file's: not written, so nodes do not reload them.</summary>
    public IReadOnlyList<string> Unchanged { get; }

    /// <summary>Compares the file's apps (name to value) with the store under <paramref name="prefix"/>.</summary>
    public static PushPlan Create(string prefix, IReadOnlyList<KeyValuePair<string, string>> apps, StoredApps stored)
    {
        var changes = new List<AppChange>();
        var unchanged = new List<string>();
        var inFile = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in apps)
        {
            var key = EtcdLayout.AppKey(prefix, name);
            inFile.Add(key);
            if (!stored.Apps.TryGetValue(key, out var current))
            {
                changes.Add(new AppChange(AppChangeKind.Added, key, value));
            }
            else if (!string.Equals(current.Value, value, StringComparison.Ordinal))
            {
                changes.Add(new AppChange(AppChangeKind.Changed, key, value));
            }
            else
            {
                unchanged.Add(key);
            }
        }

        foreach (var key in stored.Apps.Keys)
        {
            if (!inFile.Contains(key))
            {
                changes.Add(new AppChange(AppChangeKind.Deleted, key, null));
            }
        }

        changes.Sort(static (a, b) => string.CompareOrdinal(a.Key, b.Key));
        unchanged.Sort(StringComparer.Ordinal);
        return new PushPlan(stored, changes, unchanged);
    }

    /// <summary>How many changes of one kind.</summary>
    public int Count(AppChangeKind kind) => Changes.Count(c => c.Kind == kind);

    /// <summary>"1 added, 2 changed, 0 deleted, 3 unchanged".</summary>
    public string Summary() =>
        $"{Count(AppChangeKind.Added)} added, {Count(AppChangeKind.Changed)} changed, {Count(AppChangeKind.Deleted)} deleted, {Unchanged.Count} unchanged";
}

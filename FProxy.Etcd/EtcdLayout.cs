namespace FProxy.Etcd;

/// <summary>
/// The keys FProxy uses under its prefix: <c>&lt;prefix&gt;/apps/&lt;name&gt;</c> holds one app as
/// JSON (one element of config.json's <c>Apps</c>), <c>&lt;prefix&gt;/nodes/&lt;node-id&gt;</c> each
/// node's report.
/// </summary>
public static class EtcdLayout
{
    /// <summary>One leading slash, no trailing one: <c>fproxy/</c> becomes <c>/fproxy</c>.</summary>
    /// <param name="prefix">The prefix as given.</param>
    /// <returns>The normalized prefix.</returns>
    public static string NormalizePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        return "/" + prefix.Trim().Trim('/');
    }

    /// <summary>The range holding every app: <c>&lt;prefix&gt;/apps/</c>.</summary>
    /// <param name="prefix">The normalized prefix.</param>
    /// <returns>The key prefix, with its trailing slash.</returns>
    public static string AppsPrefix(string prefix) => prefix + "/apps/";

    /// <summary>The range holding every node report: <c>&lt;prefix&gt;/nodes/</c>.</summary>
    /// <param name="prefix">The normalized prefix.</param>
    /// <returns>The key prefix, with its trailing slash.</returns>
    public static string NodesPrefix(string prefix) => prefix + "/nodes/";

    /// <summary>
    /// The key <c>ftest fleet push</c> rewrites in every transaction that changes apps: its
    /// revision is the last push's (a delete included, which leaves no key behind under
    /// <c>apps/</c>), and a push checks it to notice another push made meanwhile.
    /// </summary>
    /// <param name="prefix">The normalized prefix.</param>
    /// <returns><c>&lt;prefix&gt;/last-push</c>.</returns>
    public static string LastPushKey(string prefix) => prefix + "/last-push";

    /// <summary>The key of one app.</summary>
    /// <param name="prefix">The normalized prefix.</param>
    /// <param name="name">The app's name.</param>
    /// <returns><c>&lt;prefix&gt;/apps/&lt;name&gt;</c>.</returns>
    public static string AppKey(string prefix, string name) => AppsPrefix(prefix) + name;

    /// <summary>The key of one node's report.</summary>
    /// <param name="prefix">The normalized prefix.</param>
    /// <param name="nodeId">The node's id.</param>
    /// <returns><c>&lt;prefix&gt;/nodes/&lt;node-id&gt;</c>.</returns>
    public static string NodeKey(string prefix, string nodeId) => NodesPrefix(prefix) + nodeId;

    /// <summary>The last segment of a key, which must equal the app's name (case-insensitively).</summary>
    /// <param name="key">A key under <see cref="AppsPrefix"/>.</param>
    /// <returns>What follows the last slash.</returns>
    public static string LastSegment(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return key[(key.LastIndexOf('/') + 1)..];
    }

    /// <summary>The end of the range of keys starting with <paramref name="prefix"/> (etcd's range_end: the prefix with its last byte plus one).</summary>
    /// <param name="prefix">A key prefix.</param>
    /// <returns>The exclusive end of the range.</returns>
    public static string RangeEnd(string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        return prefix[..^1] + (char)(prefix[^1] + 1);
    }
}

namespace FProxy.Etcd.Source;

/// <summary>Why one key does not apply as stored.</summary>
/// <param name="App">The app's name (the key's last segment).</param>
/// <param name="Problems">Every problem found.</param>
/// <param name="Serving">Whether an earlier version of the app still runs.</param>
internal sealed record KeyErrors(string App, IReadOnlyList<string> Problems, bool Serving)
{
    /// <summary>One line for reports: the problems, and what runs instead.</summary>
    public string Message => string.Join("; ", Problems) + (Serving ? " (its last good version keeps running)" : " (not served)");
}

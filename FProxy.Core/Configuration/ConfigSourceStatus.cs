namespace FProxy.Configuration;

/// <summary>Where the running config comes from and how current it is, as a source sees it (shown by the admin endpoint's /apps).</summary>
/// <param name="Source">The kind of source: <c>file</c>, <c>etcd</c>, or a custom source's name.</param>
/// <param name="Connected">Whether the source hears changes now; false while a store is unreachable (the last good config keeps serving).</param>
/// <param name="Revision">The store's revision of the config in force, when the source has revisions (etcd); otherwise null.</param>
/// <param name="LastSync">When the source last confirmed the config in force matched its content; null before the first time.</param>
/// <param name="Rejected">Parts of the source rejected now (an app's name to the reason); the others apply.</param>
public sealed record ConfigSourceStatus(
    string Source, bool Connected, long? Revision, DateTimeOffset? LastSync, IReadOnlyDictionary<string, string> Rejected);

namespace FProxy.FTest.Fleet;

/// <summary>Every key under <c>&lt;prefix&gt;/apps/</c> at one revision of the store.</summary>
/// <param name="Revision">The store's revision when they were read.</param>
/// <param name="Apps">Each key to its value and last write.</param>
internal sealed record StoredApps(long Revision, IReadOnlyDictionary<string, StoredApp> Apps)
{
    /// <summary>
    /// The revision of the last write to an app still there, or the store's revision when there
    /// is none: what a push that changes nothing reports, and what a node that has applied every
    /// app has reached.
    /// </summary>
    public long LastChange => Apps.Count == 0 ? Revision : Apps.Values.Max(static a => a.ModRevision);
}

namespace FProxy.FTest.Fleet;

/// <summary>Every key under <c>&lt;prefix&gt;/apps/</c> at one revision of the store.</summary>
/// <param name="Revision">The store's revision when they were read.</param>
/// <param name="Apps">Each key to its value and last write.</param>
/// <param name="LastPush">The revision of the last push's marker key (<see cref="FProxy.Etcd.EtcdLayout.LastPushKey"/>), 0 when there was none.</param>
internal sealed record StoredApps(long Revision, IReadOnlyDictionary<string, StoredApp> Apps, long LastPush = 0)
{
    /// <summary>
    /// The revision of the last push or the last write to an app still there (a delete made
    /// without ftest leaves no trace), or the store's revision when there is neither: what a push
    /// that changes nothing reports, and what a node that has applied every app has reached.
    /// </summary>
    public long LastChange => LastChangeOf(Revision, Apps.Count == 0 ? 0 : Apps.Values.Max(static a => a.ModRevision), LastPush);

    /// <summary><see cref="LastChange"/> from its parts: the later of the newest app write and the last push, else the store's revision.</summary>
    public static long LastChangeOf(long revision, long newestApp, long lastPush) => Math.Max(newestApp, lastPush) is var last and > 0 ? last : revision;
}

namespace FProxy.FTest.Fleet;

/// <summary>The fleet at one revision of the store: the apps' last change and every live node.</summary>
/// <param name="Revision">The store's revision when it was read.</param>
/// <param name="AppsRevision">The last write to an app still stored, or <paramref name="Revision"/> when there are none: what lag is measured against.</param>
/// <param name="AppCount">How many apps are stored.</param>
/// <param name="Nodes">Each node with a report, ordered by id.</param>
internal sealed record FleetStatus(long Revision, long AppsRevision, long AppCount, IReadOnlyList<NodeStatus> Nodes);

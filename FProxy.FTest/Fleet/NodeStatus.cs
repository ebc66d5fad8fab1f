using FProxy.Etcd;

namespace FProxy.FTest.Fleet;

/// <summary>One live node as <c>ftest fleet status</c> and <c>wait</c> see it.</summary>
/// <param name="Id">The node's id: the last segment of its key.</param>
/// <param name="Report">What it reported; null when its value is not a report (then it counts as behind).</param>
/// <param name="Lag">How many revisions its applied revision is behind the apps' last change (0 when it is not behind).</param>
internal sealed record NodeStatus(string Id, NodeReport? Report, long Lag)
{
    /// <summary>Whether the node has applied <paramref name="revision"/> or a later one.</summary>
    public bool HasApplied(long revision) => Report is { } report && report.AppliedRevision >= revision;

    /// <summary>The node and its applied revision, for messages: "node-b at 40", or "node-x (unreadable report)".</summary>
    public string Describe() => Report is { } report ? $"{Id} at {report.AppliedRevision}" : $"{Id} (unreadable report)";
}

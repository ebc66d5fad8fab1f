namespace FProxy.Etcd.Source;

/// <summary>A table snapshot to hand to the daemon, with the etcd revision it stands for.</summary>
/// <param name="Table">The config, its apps' JSON and the rejected keys.</param>
/// <param name="Revision">The revision of the last apps/ change it includes.</param>
/// <param name="FromCopy">Read from the copy on disk, not from etcd: serving it is not a sync.</param>
internal sealed record Snapshot(TableSnapshot Table, long Revision, bool FromCopy);

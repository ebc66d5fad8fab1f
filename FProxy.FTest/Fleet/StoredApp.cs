namespace FProxy.FTest.Fleet;

/// <summary>One app as etcd holds it: its value and the revision of its last write.</summary>
internal sealed record StoredApp(string Value, long ModRevision);

namespace FProxy.Etcd.Source;

/// <summary>Where the etcd source stands, swapped whole so readers (status, the node report) never see half of a change.</summary>
/// <param name="Connected">Whether the watch runs now.</param>
/// <param name="AppliedRevision">The etcd revision of the last apps/ change the node has applied; 0 before the first.</param>
/// <param name="LastSync">When the config in force last matched what etcd holds.</param>
/// <param name="Errors">Rejected apps now: the app's name to the reason.</param>
internal sealed record SourceState(bool Connected, long AppliedRevision, DateTimeOffset? LastSync, IReadOnlyDictionary<string, string> Errors)
{
    public static SourceState Initial { get; } = new(false, 0, null, new Dictionary<string, string>());
}

namespace FProxy.FTest.Fleet;

/// <summary>What a push does to one key.</summary>
internal enum AppChangeKind
{
    /// <summary>The file has an app the store has not: put.</summary>
    Added,

    /// <summary>Both have it, with different values: put.</summary>
    Changed,

    /// <summary>The store has a key the file has no app for: delete.</summary>
    Deleted,
}

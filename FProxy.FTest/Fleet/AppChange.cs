namespace FProxy.FTest.Fleet;

/// <summary>One key a push writes or deletes.</summary>
/// <param name="Kind">Put or delete, and why.</param>
/// <param name="Key">The app's key.</param>
/// <param name="Value">The value to put; null for a delete.</param>
internal sealed record AppChange(AppChangeKind Kind, string Key, string? Value)
{
    /// <summary>The diff line: <c>+ key</c>, <c>~ key</c> or <c>- key</c>.</summary>
    public override string ToString() => Kind switch
    {
        AppChangeKind.Added => "+ ",
        AppChangeKind.Changed => "~ ",
        _ => "- ",
    } + Key;
}

namespace FProxy.Routing;

/// <summary>
/// A count of an app's connections across its ports against a maximum: those open
/// (MaxConnections), or those still being peeked at (MaxPeekingConnections). Kept across reloads
/// in <see cref="AppLimits"/>, so connections still count after the limit changes. Increment
/// first and back out on failure, so a burst of accepts on several ports can never pass the limit.
/// </summary>
internal sealed class ConnectionLimit
{
    private int _open;

    public int Open => Volatile.Read(ref _open);

    /// <summary>Counts a new connection unless that would exceed <paramref name="max"/> (null: no limit).</summary>
    public bool TryEnter(int? max)
    {
        if (Interlocked.Increment(ref _open) <= (max ?? int.MaxValue))
        {
            return true;
        }

        Interlocked.Decrement(ref _open);
        return false;
    }

    public void Exit() => Interlocked.Decrement(ref _open);
}

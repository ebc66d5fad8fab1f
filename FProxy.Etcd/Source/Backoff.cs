namespace FProxy.Etcd.Source;

/// <summary>
/// Waits between reconnection attempts: 100 ms, doubling up to a cap, each ±20 % so that many
/// nodes that lost etcd together do not all come back in the same instant.
/// </summary>
internal sealed class Backoff(TimeSpan max, TimeProvider time)
{
    private static readonly TimeSpan First = TimeSpan.FromMilliseconds(100);

    private TimeSpan _next = First;

    /// <summary>The next attempt is the first again (the connection works).</summary>
    public void Reset() => _next = First;

    /// <summary>Waits this attempt's delay and doubles the next one, up to the cap.</summary>
    public Task WaitAsync(CancellationToken cancellationToken)
    {
        var delay = _next * (0.8 + (Random.Shared.NextDouble() * 0.4));
        _next = TimeSpan.FromTicks(Math.Min(_next.Ticks * 2, max.Ticks));
        return Task.Delay(delay, time, cancellationToken);
    }
}

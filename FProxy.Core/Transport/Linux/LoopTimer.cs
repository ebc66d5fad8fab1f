namespace FProxy.Transport.Linux;

/// <summary>
/// One deadline on an <see cref="EpollLoop"/>'s <see cref="TimerHeap"/>: made once per pooled
/// owner and rescheduled for each use, so arming a deadline allocates nothing.
/// </summary>
internal sealed class LoopTimer(Action<object> callback, object state)
{
    /// <summary>When it fires, in the loop's clock (TimeProvider timestamps).</summary>
    internal long Due;

    /// <summary>Position in the heap; -1 while not scheduled.</summary>
    internal int Index = -1;

    public bool IsScheduled => Index >= 0;

    internal void Fire() => callback(state);
}

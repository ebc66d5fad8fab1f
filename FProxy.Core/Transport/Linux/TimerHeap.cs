namespace FProxy.Transport.Linux;

/// <summary>
/// The deadlines of one event loop in a binary min-heap: O(log n) to arm, move or cancel, and the
/// earliest one sets epoll_wait's timeout, so deadlines need no timer object or thread of their
/// own. Single-threaded: only the loop's thread touches it.
/// </summary>
/// <remarks>
/// A heap rather than a hashed wheel: connect deadlines, idle timeouts and HAProxy-style lazy
/// rescheduling (an idle timer that finds recent activity moves itself once) touch it a few times
/// per connection, never per byte.
/// </remarks>
internal sealed class TimerHeap
{
    private LoopTimer[] _items = new LoopTimer[64];
    private int _count;

    public int Count => _count;

    /// <summary>The earliest deadline, or <see cref="long.MaxValue"/> when none is armed.</summary>
    public long NextDue => _count == 0 ? long.MaxValue : _items[0].Due;

    /// <summary>Arms <paramref name="timer"/> for <paramref name="due"/>, moving it if it was armed.</summary>
    public void Schedule(LoopTimer timer, long due)
    {
        if (timer.IsScheduled)
        {
            var earlier = due < timer.Due;
            timer.Due = due;
            if (earlier)
            {
                Up(timer.Index);
            }
            else
            {
                Down(timer.Index);
            }

            return;
        }

        if (_count == _items.Length)
        {
            Array.Resize(ref _items, _count * 2);
        }

        timer.Due = due;
        timer.Index = _count;
        _items[_count++] = timer;
        Up(timer.Index);
    }

    public void Cancel(LoopTimer timer)
    {
        var index = timer.Index;
        if (index < 0)
        {
            return;
        }

        timer.Index = -1;
        var last = _items[--_count];
        _items[_count] = null!;
        if (index == _count)
        {
            return;
        }

        _items[index] = last;
        last.Index = index;
        Up(index);
        Down(last.Index);
    }

    /// <summary>Removes and returns the earliest timer if it is due at <paramref name="now"/>.</summary>
    public LoopTimer? TakeDue(long now)
    {
        if (_count == 0 || _items[0].Due > now)
        {
            return null;
        }

        var first = _items[0];
        Cancel(first);
        return first;
    }

    private void Up(int index)
    {
        var item = _items[index];
        while (index > 0)
        {
            var parent = (index - 1) >> 1;
            if (_items[parent].Due <= item.Due)
            {
                break;
            }

            _items[index] = _items[parent];
            _items[index].Index = index;
            index = parent;
        }

        _items[index] = item;
        item.Index = index;
    }

    private void Down(int index)
    {
        var item = _items[index];
        while (true)
        {
            var child = (2 * index) + 1;
            if (child >= _count)
            {
                break;
            }

            if (child + 1 < _count && _items[child + 1].Due < _items[child].Due)
            {
                child++;
            }

            if (_items[child].Due >= item.Due)
            {
                break;
            }

            _items[index] = _items[child];
            _items[index].Index = index;
            index = child;
        }

        _items[index] = item;
        item.Index = index;
    }
}

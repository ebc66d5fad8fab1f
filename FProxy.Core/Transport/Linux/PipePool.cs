namespace FProxy.Transport.Linux;

/// <summary>
/// Kernel pipes for splice(2), one loop's: a bulk direction borrows one while data flows at full
/// speed and gives it back once it is empty, so pipes (two descriptors each) are held by streams
/// in flight only, as HAProxy's splice mode does. The number in use across the transport is capped
/// by <see cref="PipeAllowance"/>; without a pipe, a direction copies through user space as usual.
/// </summary>
internal sealed unsafe class PipePool(PipeAllowance allowance)
{
    /// <summary>Empty pipes kept for reuse by one loop; more are closed (one pipe2 costs about one splice).</summary>
    private const int MaxKept = 32;

    private readonly Stack<(int Read, int Write)> _free = new();

    public bool TryRent(out int read, out int write)
    {
        if (_free.TryPop(out var pipe))
        {
            (read, write) = pipe;
            return true;
        }

        read = write = -1;
        if (!allowance.TryTake())
        {
            return false;
        }

        var fds = stackalloc int[2];
        if (Libc.Pipe2(fds, Libc.SockNonBlock | Libc.SockCloExec) != 0)
        {
            allowance.Give(); // EMFILE most likely: copying still works.
            return false;
        }

        (read, write) = (fds[0], fds[1]);
        return true;
    }

    /// <summary>Takes back an EMPTY pipe.</summary>
    public void Return(int read, int write)
    {
        if (_free.Count < MaxKept)
        {
            _free.Push((read, write));
            return;
        }

        Destroy(read, write);
    }

    /// <summary>Closes a pipe that may still hold data (its connection was reset).</summary>
    public void Destroy(int read, int write)
    {
        _ = Libc.Close(read);
        _ = Libc.Close(write);
        allowance.Give();
    }

    /// <summary>Closes every kept pipe (the loop stops).</summary>
    public void Clear()
    {
        while (_free.TryPop(out var pipe))
        {
            Destroy(pipe.Read, pipe.Write);
        }
    }
}

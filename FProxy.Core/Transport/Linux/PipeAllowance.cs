namespace FProxy.Transport.Linux;

/// <summary>
/// How many splice pipes the transport may hold at once, across its loops. Each takes two
/// descriptors from the same open-files limit as a connection, so each also takes a share of the
/// connection budget while it exists: the descriptor arithmetic stays true, and without a share
/// (or past <see cref="Max"/>) a direction simply copies through user space.
/// </summary>
internal sealed class PipeAllowance(ConnectionBudget budget, int max)
{
    private int _held;

    public int Max => max;

    public int Held => Volatile.Read(ref _held);

    public bool TryTake()
    {
        if (Interlocked.Increment(ref _held) > max)
        {
            Interlocked.Decrement(ref _held);
            return false;
        }

        if (!budget.TryAcquire())
        {
            Interlocked.Decrement(ref _held);
            return false;
        }

        return true;
    }

    public void Give()
    {
        budget.Release();
        Interlocked.Decrement(ref _held);
    }
}

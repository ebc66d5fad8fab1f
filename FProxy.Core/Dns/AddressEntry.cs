using System.Net;

namespace FProxy.Dns;

/// <summary>
/// One host name in the <see cref="AddressTable"/>: its current answer, published as a completed task
/// so readers get it without locking or allocating, and the state of its refresh loop.
/// </summary>
internal sealed class AddressEntry
{
    private readonly TaskCompletionSource<DnsAnswer> _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stop = new();
    private Task<DnsAnswer> _current;
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _nextRefreshTicks;

    public AddressEntry(string host)
    {
        Host = host;
        _current = _first.Task;
    }

    /// <summary>An entry for an IP literal: answered at once, never refreshed.</summary>
    public AddressEntry(string host, IPAddress literal)
        : this(host)
    {
        Publish(new DnsAnswer([literal], null));
        _stop.Dispose();
    }

    public string Host { get; }

    /// <summary>
    /// The current answer; until the first lookup ends, a pending task that completes with it. Never
    /// faults or cancels.
    /// </summary>
    public Task<DnsAnswer> Current => Volatile.Read(ref _current);

    /// <summary>Last addresses published without error, or null if there never were any.</summary>
    public IPAddress[]? LastGood { get; private set; }

    /// <summary>Failed lookups since the last success (owned by the refresh loop).</summary>
    public int Failures { get; set; }

    /// <summary>The <see cref="HostsFile.Version"/> the last resolution saw (owned by the refresh loop).</summary>
    public int HostsFileVersion { get; set; }

    /// <summary>The refresh loop, once started.</summary>
    public Task? Loop { get; set; }

    /// <summary>Canceled when the entry is dropped or the table disposed.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>When the loop will next refresh (by the table's clock), while it waits; for tests and diagnostics.</summary>
    public DateTimeOffset? NextRefresh =>
        Interlocked.Read(ref _nextRefreshTicks) is long ticks and not 0 ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    /// <summary>Makes <paramref name="answer"/> the current answer (and completes the first lookup).</summary>
    public void Publish(DnsAnswer answer)
    {
        if (answer.Succeeded)
        {
            LastGood = answer.Addresses;
        }

        Volatile.Write(ref _current, _first.TrySetResult(answer) ? _first.Task : Task.FromResult(answer));
    }

    /// <summary>Ends the refresh loop. Idempotent.</summary>
    public void Stop()
    {
        try
        {
            _stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            // The loop already ended and disposed its token source.
        }
    }

    /// <summary>Called by the loop as it ends: releases waiters of a first lookup that never finished.</summary>
    public void Stopped()
    {
        if (_first.TrySetResult(DnsAnswer.Failed($"lookup of \"{Host}\" was stopped (the name was removed or the resolver shut down)")))
        {
            Volatile.Write(ref _current, _first.Task);
        }

        _stop.Dispose();
    }

    /// <summary>Cuts the current wait short (the hosts file changed, say).</summary>
    public void Wake() =>
        Interlocked.Exchange(ref _wake, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>The signal a later <see cref="WaitAsync"/> watches; read it before resolving so no wake is missed.</summary>
    public Task WakeSignal => Volatile.Read(ref _wake).Task;

    /// <summary>Waits <paramref name="delay"/> on <paramref name="timeProvider"/>, or until woken.</summary>
    /// <exception cref="OperationCanceledException">The entry was stopped.</exception>
    public async Task WaitAsync(TimeSpan delay, Task wakeSignal, TimeProvider timeProvider)
    {
        CancellationToken stopping = Stopping;
        using var delayCts = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        Task delayTask = Task.Delay(delay, timeProvider, delayCts.Token);

        // Published after the timer exists, so a test that sees it can advance a fake clock past it.
        Interlocked.Exchange(ref _nextRefreshTicks, (timeProvider.GetUtcNow() + delay).UtcTicks);
        try
        {
            await Task.WhenAny(delayTask, wakeSignal).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Exchange(ref _nextRefreshTicks, 0);
            await delayCts.CancelAsync().ConfigureAwait(false);
        }

        stopping.ThrowIfCancellationRequested();
    }
}

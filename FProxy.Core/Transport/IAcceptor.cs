namespace FProxy.Transport;

/// <summary>
/// Accepts from one listening socket for one I/O thread of a transport; a listener runs one accept
/// loop per acceptor. One accept at a time.
/// </summary>
internal interface IAcceptor
{
    /// <summary>The next connection, or the error (OperationAborted once closed). Never throws.</summary>
    ValueTask<AcceptResult> AcceptAsync();

    /// <summary>
    /// Waits <paramref name="delay"/> before the next accept (a backoff after a failed one), on the
    /// transport's own clock: the epoll loops use their timers, so a loop starved of descriptors
    /// needs no thread-pool thread (starting a thread takes a descriptor; CoreCLR aborts without
    /// one). False when the acceptor was closed meanwhile.
    /// </summary>
    ValueTask<bool> DelayAsync(TimeSpan delay);

    /// <summary>
    /// Stops accepting: a pending accept completes with OperationAborted. Completes once the
    /// acceptor no longer uses the listening socket, which may then be closed. Idempotent.
    /// </summary>
    Task CloseAsync();
}

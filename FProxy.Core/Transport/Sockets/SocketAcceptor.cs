using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace FProxy.Transport.Sockets;

/// <summary>Accepts with one reusable SocketAsyncEventArgs; the runtime's engine spreads completions over its threads.</summary>
internal sealed class SocketAcceptor(Socket listening, SocketTransport transport) : IAcceptor
{
    private readonly SocketOperation _accept = new();
    private readonly CancellationTokenSource _closed = new();

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<AcceptResult> AcceptAsync()
    {
        var result = await _accept.AcceptAsync(listening).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            return new AcceptResult(null, result.Error);
        }

        var client = _accept.AcceptSocket!;
        _accept.AcceptSocket = null;
        return new AcceptResult(transport.Rent(client), SocketError.Success);
    }

    public async ValueTask<bool> DelayAsync(TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, transport.Time, _closed.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Nothing to wait for: closing the listening socket ends a pending accept (with OperationAborted).</summary>
    public Task CloseAsync()
    {
        _closed.Cancel();
        return Task.CompletedTask;
    }
}

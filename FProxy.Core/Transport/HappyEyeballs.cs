using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;

namespace FProxy.Transport;

/// <summary>
/// Connects to one of a target's addresses as RFC 8305 does: attempts start in order, a new one
/// when the previous fails or after <see cref="Stagger"/> without an answer; the first connection
/// wins and the others are cancelled, so a healthy target gets one connection.
/// </summary>
internal static class HappyEyeballs
{
    /// <summary>RFC 8305 section 5 recommends 250 ms between attempts.</summary>
    public static readonly TimeSpan Stagger = TimeSpan.FromMilliseconds(250);


    /// <summary>Connects or returns the last error. Never throws for network failures.</summary>
    public static ValueTask<(Socket? Socket, SocketError Error)> ConnectAsync(
        IPAddress[] addresses, int port, TimeProvider time, CancellationToken cancellationToken)
    {
        return addresses.Length == 1
            ? ConnectAsync(new IPEndPoint(addresses[0], port), cancellationToken)
            : RaceAsync(addresses, port, time, cancellationToken);
    }

    /// <summary>Connects to one endpoint or returns the error. Never throws for network failures.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<(Socket? Socket, SocketError Error)> ConnectAsync(
        IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        Socket socket;
        try
        {
            socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        }
        catch (SocketException e)
        {
            // socket() itself fails when the process is out of descriptors (EMFILE): a connect
            // failure like any other.
            return (null, e.SocketErrorCode);
        }

        // A pooled operation rather than Socket.ConnectAsync, which builds a new
        // SocketAsyncEventArgs for every fresh socket; cancellation closes the socket, which
        // ends the pending connect.
        var operation = SocketOperation.Rent();
        SocketResult result;
        using (cancellationToken.UnsafeRegister(static s => ((Socket)s!).Dispose(), socket))
        {
            try
            {
                result = await operation.ConnectAsync(socket, endPoint).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                result = new SocketResult(0, SocketError.OperationAborted); // Cancelled before it started.
            }
        }

        SocketOperation.Return(operation);
        if (result.Succeeded && !cancellationToken.IsCancellationRequested)
        {
            return (socket, SocketError.Success);
        }

        socket.Dispose();
        return (null, cancellationToken.IsCancellationRequested ? SocketError.TimedOut : result.Error);
    }

    private static async ValueTask<(Socket? Socket, SocketError Error)> RaceAsync(
        IPAddress[] addresses, int port, TimeProvider time, CancellationToken cancellationToken)
    {
        using var race = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var attempts = new List<Task<(Socket? Socket, SocketError Error)>>(addresses.Length);
        var waitSet = new List<Task>(addresses.Length + 1);
        Task? stagger = null;
        var next = 0;
        var lastError = SocketError.HostUnreachable;

        void StartNext()
        {
            attempts.Add(ConnectAsync(new IPEndPoint(addresses[next++], port), race.Token).AsTask());
            stagger = next < addresses.Length ? Task.Delay(Stagger, time, race.Token) : null;
        }

        StartNext();
        try
        {
            while (attempts.Count > 0)
            {
                waitSet.Clear();
                waitSet.AddRange(attempts);
                if (stagger is not null)
                {
                    waitSet.Add(stagger);
                }

                var done = await Task.WhenAny(waitSet).ConfigureAwait(false);
                if (done == stagger)
                {
                    // No answer within the stagger delay: start the next address alongside.
                    stagger = null;
                    if (!cancellationToken.IsCancellationRequested && next < addresses.Length)
                    {
                        StartNext();
                    }

                    continue;
                }

                var attempt = (Task<(Socket? Socket, SocketError Error)>)done;
                attempts.Remove(attempt);
                var (socket, error) = await attempt.ConfigureAwait(false);
                if (socket is not null)
                {
                    return (socket, SocketError.Success);
                }

                lastError = error;
                if (!cancellationToken.IsCancellationRequested && next < addresses.Length)
                {
                    StartNext(); // A failure starts the next address at once.
                }
            }

            return (null, cancellationToken.IsCancellationRequested ? SocketError.TimedOut : lastError);
        }
        finally
        {
            // Cancel the losers; one that connected anyway after the winner is closed.
            await race.CancelAsync().ConfigureAwait(false);
            foreach (var loser in attempts)
            {
                _ = loser.ContinueWith(
                    static t => t.Result.Socket?.Dispose(),
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously | TaskContinuationOptions.OnlyOnRanToCompletion,
                    TaskScheduler.Default);
            }
        }
    }
}

using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Diagnostics;
using FProxy.Dns;
using Microsoft.Extensions.Logging;

namespace FProxy.Transport;

/// <summary>
/// Reaches one of an app's targets for a new client: distinct targets in strategy order, each at
/// most once, all within the app's ConnectTimeout; a target's addresses raced Happy-Eyeballs style.
/// IP literals need no lookup; names are read from the address table, which was filled when the
/// config was applied.
/// </summary>
internal sealed class TargetConnector(IAddressResolver resolver, TimeProvider time, ILogger logger, ProxyMetrics? metrics = null)
{
    /// <summary>
    /// Connects to a target of <paramref name="pool"/>: its available targets from the strategy's
    /// pick on, then its unavailable ones as a last resort. Each failure counts towards the
    /// target's passive ejection; the target connected is counted active.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ConnectResult> ConnectAsync(
        AppRoute route, TargetPool pool, IPEndPoint? client, int port, string? serverName, CancellationToken abort)
    {
        var snapshot = pool.Current;
        var available = snapshot.Available;
        var count = snapshot.Count;
        var timeout = route.Config.ConnectTimeout;
        var pick = snapshot.Strategy.Next(new StrategyContext(available, client, port, serverName));

        // A custom strategy's out-of-range answer still lands on a target.
        var first = (int)((uint)pick % (uint)available.Count);
        var startedAt = time.GetTimestamp();

        // One timer per connection: the abort token (drain deadline) cancels it through a
        // registration rather than a linked source, which would cost a second one.
        using var deadline = new CancellationTokenSource(timeout, time);
        using var onAbort = abort.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), deadline);
        var token = deadline.Token;
        string? failure = null;
        var attempts = 0;
        var allRefused = true;
        var allTimedOut = true;
        var allReset = true;
        for (var i = 0; i < count && !token.IsCancellationRequested; i++)
        {
            var target = i < available.Count ? available[(first + i) % available.Count] : snapshot.Unavailable[i - available.Count];
            attempts++;

            // Each target but the last gets an equal share of what is left, so one black-holed
            // target cannot spend the whole budget before the others are tried. The available
            // targets share it among themselves; unavailable ones get what they leave.
            var left = i < available.Count ? available.Count - i : count - i;
            using var attempt = left == 1 ? null : CancellationTokenSource.CreateLinkedTokenSource(token);
            if (attempt is not null)
            {
                var share = (timeout - time.GetElapsedTime(startedAt)) / left;
                attempt.CancelAfter(share > TimeSpan.Zero ? share : TimeSpan.FromTicks(1));
            }

            target.Enter();
            var attemptStarted = time.GetTimestamp();
            (Socket? Socket, SocketError Error, string? Failure) result;
            try
            {
                result = await ConnectOneAsync(target.Config, attempt?.Token ?? token).ConfigureAwait(false);
            }
            catch
            {
                target.Exit(); // Never leave a phantom connection on the target's count.
                throw;
            }

            if (result.Socket is { } socket)
            {
                target.Health.ConnectSucceeded();
                metrics?.Connected(route.Name, target.Config.Key, time.GetElapsedTime(attemptStarted));
                return new ConnectResult(socket, target, null, attempts);
            }

            target.Exit();
            allRefused &= result.Error == SocketError.ConnectionRefused;
            allTimedOut &= result.Error == SocketError.TimedOut;
            allReset &= result.Error == SocketError.ConnectionReset;
            failure = result.Failure ?? Describe(result.Error, timeout);
            if (abort.IsCancellationRequested)
            {
                break; // Not the target's fault: the listener is draining.
            }

            target.Health.ConnectFailed(failure);
            TransportLog.TargetUnreachable(logger, route.Name, target.Config, failure);
        }

        var reason = ProxyMetrics.FailureReason.NoTarget;
        if (abort.IsCancellationRequested)
        {
            failure = "aborted (draining or shutting down)";
        }
        else if (deadline.IsCancellationRequested || (allTimedOut && attempts > 0))
        {
            failure = deadline.IsCancellationRequested ? Describe(SocketError.TimedOut, timeout) : failure;
            reason = ProxyMetrics.FailureReason.Timeout;
        }
        else if (allRefused && attempts > 0)
        {
            reason = ProxyMetrics.FailureReason.Refused;
        }
        else if (allReset && attempts > 0)
        {
            reason = ProxyMetrics.FailureReason.Reset; // Accepted, then reset before the connect completed.
        }

        return new ConnectResult(null, null, failure ?? "no target", attempts, reason);
    }

    /// <summary>
    /// One target: its IP literal, or its addresses from the table raced Happy-Eyeballs style.
    /// Shared by the data path and health probes. Never throws; cancellation is a TimedOut error.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<(Socket? Socket, SocketError Error, string? Failure)> ConnectOneAsync(TargetConfig target, CancellationToken token)
    {
        if (target.EndPoint is { } endPoint)
        {
            var direct = await HappyEyeballs.ConnectAsync(endPoint, token).ConfigureAwait(false);
            return (direct.Socket, direct.Error, null);
        }

        var answer = await ResolveAsync(target, token).ConfigureAwait(false);
        if (answer.Error is not null)
        {
            return (null, SocketError.HostNotFound, answer.Error);
        }

        var raced = await HappyEyeballs.ConnectAsync(answer.Addresses, target.Port, time, token).ConfigureAwait(false);
        return (raced.Socket, raced.Error, null);
    }

    /// <summary>For health probes: <see cref="ConnectOneAsync"/> as a socket or an exception that says why.</summary>
    public async ValueTask<Socket> ConnectOrThrowAsync(TargetConfig target, CancellationToken token)
    {
        var (socket, error, failure) = await ConnectOneAsync(target, token).ConfigureAwait(false);
        if (token.IsCancellationRequested)
        {
            socket?.Dispose();
            token.ThrowIfCancellationRequested();
        }

        return socket ?? throw new SocketException((int)error, failure ?? Describe(error, TimeSpan.Zero));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<DnsAnswer> ResolveAsync(TargetConfig target, CancellationToken token)
    {
        try
        {
            var answer = await resolver.GetAsync(target.Host, token).ConfigureAwait(false);
            return answer.Addresses.Length == 0 && answer.Error is null
                ? DnsAnswer.Failed($"\"{target.Host}\" has no address")
                : answer;
        }
        catch (OperationCanceledException)
        {
            return DnsAnswer.Failed($"lookup of \"{target.Host}\" did not finish within the connect timeout");
        }
    }

    private static string Describe(SocketError error, TimeSpan timeout) =>
        error == SocketError.TimedOut
            ? timeout == TimeSpan.Zero ? "timed out" : $"timed out (ConnectTimeout {Duration.Format(timeout)})"
            : error switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostUnreachable => "host unreachable",
                SocketError.NetworkUnreachable => "network unreachable",
                SocketError.OperationAborted => "aborted (shutting down)",
                SocketError.TooManyOpenSockets => "out of file descriptors (EMFILE/ENFILE)",
                _ => error.ToString(),
            };
}

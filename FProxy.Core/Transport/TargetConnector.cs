using System.Net.Sockets;
using System.Runtime.CompilerServices;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Diagnostics;
using FProxy.Dns;
using FProxy.Routing;
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
    /// Connects <paramref name="connection"/>'s target side to a target of <paramref name="pool"/>:
    /// its available targets from the strategy's pick on, then its unavailable ones as a last
    /// resort. Each failure counts towards the target's passive ejection; the target connected is
    /// counted active. Deadlines are timestamps the transport watches: no timer per connection.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ConnectResult> ConnectAsync(
        AppRoute route, TargetPool pool, TransportConnection connection, int port, string? serverName)
    {
        var snapshot = pool.Current;
        var available = snapshot.Available;
        var count = snapshot.Count;
        var timeout = route.Config.ConnectTimeout;
        var pick = snapshot.Strategy.Next(new StrategyContext(available, connection.ClientEndPoint, port, serverName));

        // A custom strategy's out-of-range answer still lands on a target.
        var first = (int)((uint)pick % (uint)available.Count);
        var startedAt = time.GetTimestamp();
        var deadline = startedAt + Ticks(timeout);
        string? failure = null;
        var attempts = 0;
        var allRefused = true;
        var allTimedOut = true;
        var allReset = true;
        for (var i = 0; i < count && time.GetTimestamp() < deadline; i++)
        {
            var target = i < available.Count ? available[(first + i) % available.Count] : snapshot.Unavailable[i - available.Count];
            attempts++;

            // Each target but the last gets an equal share of what is left, so one black-holed
            // target cannot spend the whole budget before the others are tried. The available
            // targets share it among themselves; unavailable ones get what they leave.
            var left = i < available.Count ? available.Count - i : count - i;
            var now = time.GetTimestamp();
            var attemptDeadline = left == 1 ? deadline : now + Math.Max(1, (deadline - now) / left);

            target.Enter();
            var attemptStarted = now;
            (SocketError Error, string? Failure) result;
            try
            {
                result = await ConnectTargetAsync(connection, target, attemptDeadline, route.Config.KeepAlive).ConfigureAwait(false);
            }
            catch
            {
                target.Exit(); // Never leave a phantom connection on the target's count.
                throw;
            }

            if (result.Error == SocketError.Success)
            {
                target.Outcomes?.ConnectSucceeded();
                metrics?.Connected(route.Name, target.Config.Key, time.GetElapsedTime(attemptStarted));
                return new ConnectResult(target, null, attempts);
            }

            target.Exit();
            allRefused &= result.Error == SocketError.ConnectionRefused;
            allTimedOut &= result.Error == SocketError.TimedOut;
            allReset &= result.Error == SocketError.ConnectionReset;
            failure = result.Failure ?? Describe(result.Error, timeout);
            if (connection.IsAborted)
            {
                break; // Not the target's fault: the listener is draining.
            }

            target.Outcomes?.ConnectFailed(failure);
            TransportLog.TargetUnreachable(logger, route.Name, target.Config, failure);
        }

        var reason = ProxyMetrics.FailureReason.NoTarget;
        var expired = time.GetTimestamp() >= deadline;
        if (connection.IsAborted)
        {
            failure = "aborted (draining or shutting down)";
        }
        else if (expired || (allTimedOut && attempts > 0))
        {
            failure = expired ? Describe(SocketError.TimedOut, timeout) : failure;
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

        return new ConnectResult(null, failure ?? "no target", attempts, reason);
    }

    /// <summary>One target for the data path: its IP literal, or its addresses from the table.</summary>
    private async ValueTask<(SocketError Error, string? Failure)> ConnectTargetAsync(
        TransportConnection connection, TargetState target, long deadline, KeepAliveConfig keepAlive)
    {
        var config = target.Config;
        if (target.Literal is { } literal)
        {
            return (await connection.ConnectAsync(literal, config.Port, deadline, keepAlive).ConfigureAwait(false), null);
        }

        var lookup = resolver.GetAsync(config.Host, CancellationToken.None);
        var answer = lookup.IsCompleted ? lookup.Result : await WaitForLookupAsync(lookup, config.Host, deadline).ConfigureAwait(false);
        if (answer.Error is not null || answer.Addresses.Length == 0)
        {
            return (SocketError.HostNotFound, answer.Error ?? $"\"{config.Host}\" has no address");
        }

        return (await connection.ConnectAsync(answer.Addresses, config.Port, deadline, keepAlive).ConfigureAwait(false), null);
    }

    /// <summary>A name not in the table yet (the first connections after a config names it): wait for it, within the deadline.</summary>
    private async Task<DnsAnswer> WaitForLookupAsync(ValueTask<DnsAnswer> lookup, string host, long deadline)
    {
        try
        {
            var left = time.GetElapsedTime(time.GetTimestamp(), deadline);
            return await lookup.AsTask().WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero, time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return DnsAnswer.Failed($"lookup of \"{host}\" did not finish within the connect timeout");
        }
    }

    private long Ticks(TimeSpan duration) => (long)(duration.Ticks * (time.TimestampFrequency / (double)TimeSpan.TicksPerSecond));

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

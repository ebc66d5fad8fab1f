using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Dns;
using Microsoft.Extensions.Logging;

namespace FProxy.Transport;

/// <summary>
/// Reaches one of an app's targets for a new client: distinct targets in strategy order, each at
/// most once, all within the app's ConnectTimeout; a target's addresses raced Happy-Eyeballs style.
/// IP literals need no lookup; names are read from the address table, which was filled when the
/// config was applied.
/// </summary>
internal sealed class TargetConnector(IAddressResolver resolver, TimeProvider time, ILogger logger)
{
    private static readonly IPAddress[] NoAddresses = [];

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ConnectResult> ConnectAsync(
        AppRoute route, StrategyContext context, CancellationToken abort)
    {
        var targets = route.Targets;
        var timeout = route.Config.ConnectTimeout;
        var first = route.Strategy.Next(context);
        var startedAt = time.GetTimestamp();

        // One timer per connection: the abort token (drain deadline) cancels it through a
        // registration rather than a linked source, which would cost a second one.
        using var deadline = new CancellationTokenSource(timeout, time);
        using var onAbort = abort.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), deadline);
        var token = deadline.Token;
        string? failure = null;
        var attempts = 0;
        for (var i = 0; i < targets.Length && !token.IsCancellationRequested; i++)
        {
            var target = targets[(first + i) % targets.Length];
            attempts++;
            var addresses = NoAddresses;
            if (target.EndPoint is null)
            {
                var answer = await ResolveAsync(target, token).ConfigureAwait(false);
                if (answer.Error is not null)
                {
                    failure = answer.Error;
                    TransportLog.TargetUnreachable(logger, route.Name, target, failure);
                    continue;
                }

                addresses = answer.Addresses;
            }

            // Each target but the last gets an equal share of what is left, so one black-holed
            // target cannot spend the whole budget before the others are tried.
            var left = targets.Length - i;
            using var attempt = left == 1 ? null : CancellationTokenSource.CreateLinkedTokenSource(token);
            if (attempt is not null)
            {
                var share = (timeout - time.GetElapsedTime(startedAt)) / left;
                attempt.CancelAfter(share > TimeSpan.Zero ? share : TimeSpan.FromTicks(1));
            }

            var attemptToken = attempt?.Token ?? token;
            var result = target.EndPoint is { } endPoint
                ? await HappyEyeballs.ConnectAsync(endPoint, attemptToken).ConfigureAwait(false)
                : await HappyEyeballs.ConnectAsync(addresses, target.Port, time, attemptToken).ConfigureAwait(false);

            if (result.Socket is { } socket)
            {
                return new ConnectResult(socket, target, null, attempts);
            }

            failure = Describe(result.Error, timeout);
            TransportLog.TargetUnreachable(logger, route.Name, target, failure);
        }

        if (abort.IsCancellationRequested)
        {
            failure = "aborted (draining or shutting down)";
        }
        else if (deadline.IsCancellationRequested)
        {
            failure = Describe(SocketError.TimedOut, timeout);
        }

        return new ConnectResult(null, null, failure ?? "no target", attempts);
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
            ? $"timed out (ConnectTimeout {Duration.Format(timeout)})"
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

using System.Net.Sockets;
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
    public async ValueTask<ConnectResult> ConnectAsync(
        AppRoute route, StrategyContext context, CancellationToken abort)
    {
        var targets = route.Targets;
        var first = route.Strategy.Next(context);
        using var deadline = new CancellationTokenSource(route.Config.ConnectTimeout, time);
        var deadlineAt = time.GetTimestamp() + (long)(route.Config.ConnectTimeout.TotalSeconds * time.TimestampFrequency);
        using var linked = abort.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, abort)
            : null;
        var token = linked?.Token ?? deadline.Token;
        string? failure = null;
        var attempts = 0;
        for (var i = 0; i < targets.Length && !token.IsCancellationRequested; i++)
        {
            var target = targets[(first + i) % targets.Length];
            attempts++;
            var addresses = await AddressesOf(target, token).ConfigureAwait(false);
            if (addresses.Error is not null)
            {
                failure = addresses.Error;
                TransportLog.TargetUnreachable(logger, route.Name, target, failure);
                continue;
            }

            // Each target gets an equal share of what is left, so one black-holed target cannot
            // spend the whole budget before the others are tried.
            var remaining = deadlineAt - time.GetTimestamp();
            var share = TimeSpan.FromTicks(Math.Max(1, (long)(time.GetElapsedTime(0, remaining).Ticks / (targets.Length - i))));
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(token);
            attempt.CancelAfter(share);
            var (socket, error) = await HappyEyeballs.ConnectAsync(addresses.Addresses, target.Port, time, attempt.Token)
                .ConfigureAwait(false);
            if (socket is not null)
            {
                return new ConnectResult(socket, target, null, attempts);
            }

            failure = Describe(error, deadline.IsCancellationRequested, route.Config.ConnectTimeout);
            TransportLog.TargetUnreachable(logger, route.Name, target, failure);
        }

        if (deadline.IsCancellationRequested)
        {
            failure = Describe(SocketError.TimedOut, true, route.Config.ConnectTimeout);
        }
        else if (abort.IsCancellationRequested)
        {
            failure = "aborted (shutting down)";
        }

        return new ConnectResult(null, null, failure ?? "no target", attempts);
    }

    private async ValueTask<DnsAnswer> AddressesOf(TargetConfig target, CancellationToken token)
    {
        if (target.Address is not null)
        {
            return new DnsAnswer(target.Literal, null);
        }

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

    private static string Describe(SocketError error, bool timedOut, TimeSpan timeout) =>
        timedOut || error == SocketError.TimedOut
            ? $"timed out (ConnectTimeout {Duration.Format(timeout)})"
            : error switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostUnreachable => "host unreachable",
                SocketError.NetworkUnreachable => "network unreachable",
                SocketError.OperationAborted => "aborted (shutting down)",
                _ => error.ToString(),
            };
}

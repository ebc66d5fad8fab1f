using System.Runtime.CompilerServices;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Diagnostics;
using FProxy.Routing;
using Microsoft.Extensions.Logging;

namespace FProxy.Transport;

/// <summary>
/// Serves one accepted client: picks and connects a target, then pumps until both directions end.
/// Shared by every listener of a daemon and by both transports; per-connection state lives in the
/// transport's pooled connection.
/// </summary>
internal sealed class ConnectionHandler
{
    private readonly TargetConnector _connector;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ILogger _accessLogger;
    private readonly bool _accessLogAll;

    public ConnectionHandler(
        TargetConnector connector,
        ILogger logger,
        ConnectionBudget? budget = null,
        TimeProvider? time = null,
        ProxyMetrics? metrics = null,
        ILogger? accessLogger = null,
        bool accessLogAll = false)
    {
        _connector = connector;
        Series = metrics?.Connections ?? new ConnectionSeries();
        _accessLogger = accessLogger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _accessLogAll = accessLogAll;
        _time = time ?? TimeProvider.System;
        Budget = budget ?? ConnectionBudget.Process;
        _logger = logger;
    }

    /// <summary>Where listeners find the counters of each app and port (reported by <see cref="ProxyMetrics"/> when there is one).</summary>
    public ConnectionSeries Series { get; }

    /// <summary>The process's descriptor budget: listeners take a share before each accept.</summary>
    public ConnectionBudget Budget { get; }

    /// <summary>
    /// Runs the connection to its end. The caller has already counted it in <paramref name="group"/>
    /// and taken its share of <see cref="Budget"/>; this method gives both back, and the connection
    /// to its transport. Never throws: a failing connection must not touch the accept loop.
    /// </summary>
    public async Task HandleAsync(TransportConnection connection, int port, ConnectionGroup group)
    {
        var route = group.Route;
        var app = route.Name;
        var startedAt = _time.GetTimestamp();
        var counters = group.Counters;
        counters.Accepted();
        TargetState? targetState = null;
        var counted = false;
        var peeking = false;
        UInt128? source = null;
        var pumped = false;
        Exception? unexpected = null;

        // How it ended, recorded once in finally: every path sets these, so no path can forget
        // its access line or its failure count.
        var end = "aborted";
        string? failure = null;
        double connectMs = 0;
        PumpResult result = default;
        try
        {
            connection.Join(group);
            var config = route.Config;
            var limits = route.Limits;
            if (config.AcceptProxyProtocol)
            {
                if (!limits.Peeking.TryEnter(config.MaxPeekingConnections))
                {
                    end = failure = Refuse(route, port, connection, ProxyMetrics.FailureReason.PeekLimit);
                    return;
                }

                peeking = true;
                if (await ReceiveHeaderAsync(connection, route, port).ConfigureAwait(false) is { } rejected)
                {
                    connection.Reset();
                    end = rejected != ProxyMetrics.FailureReason.Reset ? rejected : connection.IsAborted ? "aborted" : "client_reset";
                    failure = rejected;
                    return;
                }
            }

            // The source is the client the header named, when there was one: a load balancer in
            // front is one peer for everybody.
            if (config.MaxConnectionsPerSource is { } perSource && connection.ClientEndPoint is { } client)
            {
                source = SourceLimit.KeyOf(client.Address);
                if (!limits.Sources.TryEnter(source.Value, perSource))
                {
                    source = null;
                    end = failure = Refuse(route, port, connection, ProxyMetrics.FailureReason.SourceLimit);
                    return;
                }
            }

            if (!limits.Open.TryEnter(config.MaxConnections))
            {
                // Over MaxConnections: refuse at once, never queue, so the limit holds under a burst.
                end = failure = Refuse(route, port, connection, ProxyMetrics.FailureReason.Limit);
                return;
            }

            counted = true;
            if (!peeking && route.ReadsServerName)
            {
                if (!limits.Peeking.TryEnter(config.MaxPeekingConnections))
                {
                    end = failure = Refuse(route, port, connection, ProxyMetrics.FailureReason.PeekLimit);
                    return;
                }

                peeking = true;
            }

            // Routing decides (Routing/AppRoute): rules, and the SNI peek when one needs it.
            var (pool, serverName, header) = await route.ChooseAsync(connection, port).ConfigureAwait(false);
            if (peeking)
            {
                peeking = false;
                limits.Peeking.Exit();
            }

            if (pool is null)
            {
                connection.Reset(); // It reset, or the listener is draining.
                end = connection.IsAborted ? "aborted" : "client_reset";
                failure = ProxyMetrics.FailureReason.Reset;
                return;
            }

            var connectStarted = _time.GetTimestamp();
            var connected = await _connector.ConnectAsync(route, pool, connection, port, serverName).ConfigureAwait(false);
            connectMs = Milliseconds(connectStarted);
            if (connected.Target is not { } target)
            {
                // Reset at once: the client learns there is no service, no half-open wait.
                connection.Reset();
                failure = connected.Reason ?? ProxyMetrics.FailureReason.NoTarget;

                // A target that accepted and reset at once ended the connection: target_reset.
                end = failure == ProxyMetrics.FailureReason.Reset ? "target_reset" : failure;
                if (route.NoTargetLog.ShouldLog(out var suppressed))
                {
                    TransportLog.NoTarget(_logger, app, port, connection.ClientEndPoint, connected.Attempts, connected.Failure ?? "no target", suppressed);
                }
                else
                {
                    TransportLog.NoTargetRepeated(_logger, app, port, connection.ClientEndPoint, connected.Failure ?? "no target");
                }

                return;
            }

            targetState = target;
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                TransportLog.Connected(_logger, app, port, connection.ClientEndPoint, target.Config);
            }

            result = await connection.PumpAsync(target, route.Config.IdleTimeout, header).ConfigureAwait(false);
            pumped = true;
            end = AccessLog.Describe(result.End);
            failure = result.End is PumpEnd.ClientReset or PumpEnd.TargetReset or PumpEnd.Aborted ? ProxyMetrics.FailureReason.Reset : null;
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            // The client vanished while we set it up (options on a reset socket fail).
            connection.Reset();
            (end, failure) = ("client_reset", ProxyMetrics.FailureReason.Reset);
        }
#pragma warning disable CA1031 // A bug in one connection must never take the listener down; it is logged in finally.
        catch (Exception e)
#pragma warning restore CA1031
        {
            unexpected = e;
            connection.Reset();
            (end, failure) = ("aborted", ProxyMetrics.FailureReason.Reset);
        }
        finally
        {
            // Counts, limits and the descriptor budget go back before anything here calls out of
            // the proxy (logging providers): one that throws must not leak them, nor hang a drain
            // that waits for group.Exit. The failure is counted before the close, so a collection
            // that sees the connection closed sees its failure too.
            targetState?.Exit();
            if (counted)
            {
                route.Limits.Open.Exit();
            }

            if (peeking)
            {
                route.Limits.Peeking.Exit();
            }

            if (source is { } key)
            {
                route.Limits.Sources.Exit(key);
            }

            if (failure is not null)
            {
                counters.Failed(failure);
            }

            counters.Closed();
            group.Exit();
            Budget.Release();
            try
            {
                if ((unexpected ?? connection.Failure) is { } bug)
                {
                    TransportLog.HandlerFailed(_logger, app, port, bug);
                }

                if (pumped && _logger.IsEnabled(LogLevel.Debug))
                {
                    TransportLog.Closed(_logger, app, port, connection.ClientEndPoint, result.End, result.ClientToTarget, result.TargetToClient);
                }

                if (_accessLogAll || route.Config.AccessLog)
                {
                    AccessLog.Finished(_accessLogger, app, port, connection.ClientEndPoint, targetState?.Config.ToString() ?? "-", connectMs,
                        Milliseconds(startedAt), result.ClientToTarget, result.TargetToClient, end);
                }
            }
#pragma warning disable CA1031 // The logging provider itself failed: the lines are lost, nothing else; the connection is over.
            catch (Exception)
#pragma warning restore CA1031
            {
            }
            finally
            {
                // Last: its buffers (a peek's included) go back to the pool whatever happened above.
                connection.Release();
            }
        }
    }

    /// <summary>
    /// The app accepts PROXY protocol headers: an untrusted source is refused before anything is
    /// read; anyone else must send a whole valid header within the app's timeout.
    /// </summary>
    /// <returns>Null when the header was read (the connection goes on), else the failure reason (the caller resets).</returns>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<string?> ReceiveHeaderAsync(TransportConnection connection, AppRoute route, int port)
    {
        string reason;
        if (route.ChecksProxies && !route.IsTrusted(connection.PeerEndPoint?.Address))
        {
            reason = ProxyMetrics.FailureReason.ProxyUntrusted;
        }
        else
        {
            switch (await connection.ReadProxyHeaderAsync(route.Config.ProxyProtocolTimeout).ConfigureAwait(false))
            {
                case ProxyHeaderOutcome.Received:
                    return null;
                case ProxyHeaderOutcome.Failed:
                    return ProxyMetrics.FailureReason.Reset; // The client reset, or a drain aborted it: not the header's fault.
                case ProxyHeaderOutcome.TimedOut:
                    reason = ProxyMetrics.FailureReason.ProxyTimeout;
                    break;
                default:
                    reason = ProxyMetrics.FailureReason.ProxyMalformed;
                    break;
            }
        }

        // Rate-limited: a scanner hitting the port sends nothing but bad headers.
        if (route.HeaderLog.ShouldLog(out var suppressed))
        {
            var detail = reason == ProxyMetrics.FailureReason.ProxyUntrusted
                ? "the source is not in TrustedProxies"
                : connection.HeaderProblem ?? "not a PROXY protocol header";
            TransportLog.HeaderRejected(_logger, route.Name, port, connection.PeerEndPoint, reason, detail, suppressed);
        }

        return reason;
    }

    /// <summary>
    /// Refuses a connection over one of the app's limits: logged (rate-limited: a flood refused by
    /// the thousand must not become a thousand lines), then reset. Logged first: the sockets
    /// transport cannot name the client after the reset.
    /// </summary>
    /// <returns><paramref name="reason"/>, which is also the access log's end.</returns>
    private string Refuse(AppRoute route, int port, TransportConnection connection, string reason)
    {
        if (route.LimitLog.ShouldLog(out var suppressed))
        {
            TransportLog.LimitRefused(_logger, route.Name, port, connection.ClientEndPoint, reason, Detail(route.Config, reason), suppressed);
        }

        connection.Reset();
        return reason;
    }

    private static string Detail(AppConfig config, string reason) =>
        reason switch
        {
            ProxyMetrics.FailureReason.SourceLimit => $"its source already has MaxConnectionsPerSource ({config.MaxConnectionsPerSource}) open",
            ProxyMetrics.FailureReason.PeekLimit => $"MaxPeekingConnections ({config.MaxPeekingConnections}) already wait for a PROXY protocol header or ClientHello",
            _ => $"the app already has MaxConnections ({config.MaxConnections}) open",
        };

    private double Milliseconds(long since) => _time.GetElapsedTime(since).TotalMilliseconds;
}

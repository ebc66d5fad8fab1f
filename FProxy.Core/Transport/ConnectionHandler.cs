using System.Buffers;
using System.Net.Sockets;
using System.Net;
using FProxy.Balancing;
using FProxy.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.ObjectPool;

namespace FProxy.Transport;

/// <summary>
/// Serves one accepted client: picks and connects a target, then pumps until both directions end.
/// Shared by every listener of a daemon; per-connection state lives in pooled pumps.
/// </summary>
internal sealed partial class ConnectionHandler
{
    private readonly TargetConnector _connector;
    private readonly ObjectPool<DuplexPump> _pumps;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ProxyMetrics? _metrics;
    private readonly ILogger _accessLogger;
    private readonly bool _accessLogAll;

    public ConnectionHandler(
        TargetConnector connector,
        MemoryPool<byte> memoryPool,
        ILogger logger,
        ConnectionBudget? budget = null,
        TimeProvider? time = null,
        ProxyMetrics? metrics = null,
        ILogger? accessLogger = null,
        bool accessLogAll = false)
    {
        _connector = connector;
        _metrics = metrics;
        _accessLogger = accessLogger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;
        _accessLogAll = accessLogAll;
        _time = time ?? TimeProvider.System;
        Budget = budget ?? ConnectionBudget.Process;
        _logger = logger;
        var pipeOptions = DuplexPump.CreatePipeOptions(memoryPool);

        // Pooled: building a pump (two pipes, two SocketAsyncEventArgs) costs ~1.6 KB and ~1.7 us;
        // a pooled one 0 B and ~0.2 us (PumpPoolingBenchmarks, docs/benchmarks.md).
        _pumps = new DefaultObjectPool<DuplexPump>(new PumpPolicy(pipeOptions), maximumRetained: 1024);
    }

    /// <summary>The process's descriptor budget: listeners take a share before each accept.</summary>
    public ConnectionBudget Budget { get; }

    /// <summary>
    /// Runs the connection to its end. The caller has already counted it in <paramref name="group"/>
    /// and taken its share of <see cref="Budget"/>; this method gives both back. Never throws: a
    /// failing connection must not touch the accept loop.
    /// </summary>
    public async Task HandleAsync(Socket client, int port, ConnectionGroup group)
    {
        var route = group.Route;
        var app = route.Name;
        var startedAt = _time.GetTimestamp();
        _metrics?.Accepted(app, group.PortTag);
        DuplexPump? pump = null;
        Socket? target = null;
        TargetState? targetState = null;
        IPEndPoint? clientEndPoint = null;
        var counted = false;
        var tracked = false;
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
            clientEndPoint = SocketSetup.Normalize(client.RemoteEndPoint);
            if (!route.Limit.TryEnter(route.Config.MaxConnections))
            {
                // Over MaxConnections: refuse at once, never queue, so the limit holds under a burst.
                SocketSetup.Reset(client);
                (end, failure) = ("limit", ProxyMetrics.FailureReason.Limit);
                return;
            }

            counted = true;
            var keepAlive = route.Config.KeepAlive;
            if (!OperatingSystem.IsLinux())
            {
                // Linux hands these down from the listening socket (PortListener.Bind).
                SocketSetup.ConfigureConnection(client, keepAlive);
            }

            var pool = route.DefaultPool;
            string? serverName = null;
            if (route.Rules.Length > 0)
            {
                var choice = await ApplyRulesAsync(route, client, clientEndPoint, port, group.AbortToken).ConfigureAwait(false);
                pump = choice.Pump;
                if (choice.Pool is null)
                {
                    SocketSetup.Reset(client); // It reset, or the listener is draining.
                    end = group.AbortToken.IsCancellationRequested ? "aborted" : "client_reset";
                    failure = ProxyMetrics.FailureReason.Reset;
                    return;
                }

                pool = choice.Pool;
                serverName = choice.ServerName;
            }

            var connectStarted = _time.GetTimestamp();
            var connected = await _connector.ConnectAsync(route, pool, clientEndPoint, port, serverName, group.AbortToken).ConfigureAwait(false);
            connectMs = Milliseconds(connectStarted);
            target = connected.Socket;
            if (target is null)
            {
                // Reset at once: the client learns there is no service, no half-open wait.
                SocketSetup.Reset(client);
                failure = connected.Reason ?? ProxyMetrics.FailureReason.NoTarget;

                // A target that accepted and reset at once ended the connection: target_reset.
                end = failure == ProxyMetrics.FailureReason.Reset ? "target_reset" : failure;
                if (route.NoTargetLog.ShouldLog(out var suppressed))
                {
                    TransportLog.NoTarget(_logger, app, port, clientEndPoint, connected.Attempts, connected.Failure ?? "no target", suppressed);
                }
                else
                {
                    TransportLog.NoTargetRepeated(_logger, app, port, clientEndPoint, connected.Failure ?? "no target");
                }

                return;
            }

            targetState = connected.Target!;
            try
            {
                SocketSetup.ConfigureConnection(target, keepAlive);
            }
            catch (SocketException)
            {
                // The target reset right after accepting: as if it had refused.
                target.Dispose();
                SocketSetup.Reset(client);
                (end, failure) = ("target_reset", ProxyMetrics.FailureReason.Reset);
                return;
            }

            TransportLog.Connected(_logger, app, port, clientEndPoint, targetState.Config);
            pump ??= _pumps.Get();
            group.Track(pump);
            tracked = true;
            using (group.AbortToken.UnsafeRegister(static p => ((DuplexPump)p!).Abort(), pump))
            {
                result = await pump.RunAsync(client, target, targetState, _time).ConfigureAwait(false);
            }

            pumped = true;
            end = AccessLog.Describe(result.End);
            failure = result.End is PumpEnd.ClientReset or PumpEnd.TargetReset or PumpEnd.Aborted ? ProxyMetrics.FailureReason.Reset : null;
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // The client vanished while we set it up (options on a reset socket fail).
            SocketSetup.Reset(client);
            (end, failure) = ("client_reset", ProxyMetrics.FailureReason.Reset);
        }
#pragma warning disable CA1031 // A bug in one connection must never take the listener down; it is logged in finally.
        catch (Exception e)
#pragma warning restore CA1031
        {
            unexpected = e;
            SocketSetup.Reset(client);
            if (target is not null)
            {
                SocketSetup.Reset(target); // Not handed to a pump yet (a pump closes its own).
            }

            (end, failure) = ("aborted", ProxyMetrics.FailureReason.Reset);
        }
        finally
        {
            if (tracked)
            {
                group.Forget(pump!);
            }

            // Counts, limits and the descriptor budget go back before anything here calls out of
            // the proxy (metrics listeners, logging providers): one that throws must not leak
            // them, nor hang a drain that waits for group.Exit.
            targetState?.Exit();
            if (counted)
            {
                route.Limit.Exit();
            }

            try
            {
                if (failure is not null)
                {
                    _metrics?.Failed(app, group.PortTag, failure);
                }

                _metrics?.Closed(app, group.PortTag);
            }
#pragma warning disable CA1031 // A metrics listener failed: its figures are off, but the connection's shares must still go back.
            catch (Exception)
#pragma warning restore CA1031
            {
            }

            group.Exit();
            Budget.Release();
            try
            {
                if ((unexpected ?? pump?.Failure) is { } bug)
                {
                    TransportLog.HandlerFailed(_logger, app, port, bug);
                }

                if (pumped)
                {
                    TransportLog.Closed(_logger, app, port, clientEndPoint, result.End, result.ClientToTarget, result.TargetToClient);
                }

                if (_accessLogAll || route.Config.AccessLog)
                {
                    AccessLog.Finished(_accessLogger, app, port, clientEndPoint, targetState?.Config.ToString() ?? "-", connectMs,
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
                if (pump is not null)
                {
                    _pumps.Return(pump);
                }
            }
        }
    }

    private double Milliseconds(long since) => _time.GetElapsedTime(since).TotalMilliseconds;

    private sealed class PumpPolicy(System.IO.Pipelines.PipeOptions options) : PooledObjectPolicy<DuplexPump>
    {
        public override DuplexPump Create() => new(options);

        public override bool Return(DuplexPump obj)
        {
            obj.Reset();
            return true;
        }
    }
}

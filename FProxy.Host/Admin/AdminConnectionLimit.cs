using FProxy.Diagnostics;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Logging;

namespace FProxy.Host.Admin;

/// <summary>
/// The admin endpoint's connection cap, kept here rather than by Kestrel's
/// MaxConcurrentConnections. Kestrel's cap refuses at accept, before anything is known of a
/// connection, so 64 clients that connect and send nothing (or stream events and never read)
/// left /healthz and /readyz unanswered for minutes, and Kestrel logged a warning per refusal.
/// Here, as nginx does when its worker_connections run out, a new connection at the cap takes
/// the place of the connection that has been idle longest: one waiting for its first request or
/// between requests, which costs its client nothing it cannot redo. Busy connections are never
/// closed, and <see cref="AdminLimits.MaxRequestsInFlight"/> keeps enough of them idle for a
/// probe to find room; only when every connection is busy is a new one refused. Evictions and
/// refusals are logged at most once per <see cref="AdminLimits.LogInterval"/> with a count.
/// </summary>
/// <remarks>
/// One lock, taken when a connection opens, closes, starts or ends a request: admin traffic is
/// probes and scrapes, and even a flood of connections is thousands per second at most.
/// </remarks>
internal sealed partial class AdminConnectionLimit(int max, ILogger logger, TimeProvider time)
{
    private readonly Lock _sync = new();
    private readonly LinkedList<AdminConnection> _idle = new();
    private readonly LogLimiter _evictedLog = new(time, AdminLimits.LogInterval);
    private readonly LogLimiter _refusedLog = new(time, AdminLimits.LogInterval);
    private int _open;

    public AdminConnectionLimit(ILogger logger)
        : this(AdminLimits.MaxConnections, logger, TimeProvider.System)
    {
    }

    /// <summary>Connections counted now.</summary>
    public int Open
    {
        get
        {
            lock (_sync)
            {
                return _open;
            }
        }
    }

    /// <summary>Kestrel connection middleware: counts each connection, or closes it at once when refused.</summary>
    public Func<ConnectionDelegate, ConnectionDelegate> Middleware => next => async context =>
    {
        var connection = TryOpen(() => context.Abort(new ConnectionAbortedException("admin endpoint at its connection cap: closed as the connection idle longest")));
        if (connection is null)
        {
            return; // Returning without running HTTP closes the connection.
        }

        // Requests find it here: HTTP features fall back to the connection's.
        context.Features.Set(connection);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            Close(connection);
        }
    };

    /// <summary>
    /// Counts a new connection, idle until its request starts; at the cap, first closes the
    /// connection idle longest. Null when every connection is busy: refuse it.
    /// </summary>
    public AdminConnection? TryOpen(Action abort)
    {
        AdminConnection? connection = new(abort);
        AdminConnection? evicted = null;
        lock (_sync)
        {
            if (_open >= max)
            {
                if (_idle.First is not { } oldest)
                {
                    connection = null;
                }
                else
                {
                    evicted = oldest.Value;
                    Release(evicted);
                }
            }

            if (connection is not null)
            {
                _open++;
                connection.IdleNode = _idle.AddLast(connection);
            }
        }

        // Outside the lock: aborting runs the transport's callbacks.
        if (evicted is not null)
        {
            evicted.Abort();
            if (_evictedLog.ShouldLog(out var suppressed))
            {
                LogEvicted(logger, max, suppressed);
            }
        }
        else if (connection is null && _refusedLog.ShouldLog(out var suppressed))
        {
            LogRefused(logger, max, suppressed);
        }

        return connection;
    }

    /// <summary>A request starts on <paramref name="connection"/>: it is busy, and cannot be closed to make room.</summary>
    public void BeginRequest(AdminConnection connection)
    {
        lock (_sync)
        {
            connection.Requests++;
            if (connection.IdleNode is { } node)
            {
                _idle.Remove(node);
                connection.IdleNode = null;
            }
        }
    }

    /// <summary>A request ended: with none left, the connection is idle, the newest of the idle ones.</summary>
    public void EndRequest(AdminConnection connection)
    {
        lock (_sync)
        {
            connection.Requests--;
            if (connection.Requests == 0 && !connection.Released)
            {
                connection.IdleNode = _idle.AddLast(connection);
            }
        }
    }

    /// <summary>The connection is gone (its middleware returned); a connection already closed to make room was uncounted then.</summary>
    public void Close(AdminConnection connection)
    {
        lock (_sync)
        {
            if (!connection.Released)
            {
                Release(connection);
            }
        }
    }

    private void Release(AdminConnection connection)
    {
        if (connection.IdleNode is { } node)
        {
            _idle.Remove(node);
            connection.IdleNode = null;
        }

        connection.Released = true;
        _open--;
    }

    [LoggerMessage(1410, LogLevel.Warning, "admin endpoint: {Max} connections open, its cap: closed the one idle longest to take a new one ({Suppressed} more since the last report)")]
    private static partial void LogEvicted(ILogger logger, int max, int suppressed);

    [LoggerMessage(1411, LogLevel.Warning, "admin endpoint: {Max} connections open, its cap, all busy with a request: refused a new connection ({Suppressed} more since the last report)")]
    private static partial void LogRefused(ILogger logger, int max, int suppressed);
}

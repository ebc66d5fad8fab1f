using System.Net.Sockets;
using System.Text.Json;
using FProxy.Daemon;
using FProxy.Diagnostics;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Logging;

namespace FProxy.Host.Admin;

/// <summary>
/// GET /events: the daemon's events as server-sent events, one <c>event: TYPE</c> /
/// <c>data: JSON</c> pair each, flushed as it happens. <c>?app=NAME</c> keeps the events of that
/// app (case-insensitive) and those of no app (rollout.started, rollout.applied, a rejected
/// config), since they concern every app. A comment line every 15 s keeps idle proxies and load
/// balancers from cutting the stream. The stream ends when the client goes, or once the daemon
/// has drained at shutdown.
/// </summary>
/// <remarks>
/// Subscribers have bounds of their own: at most <see cref="AdminLimits.MaxSubscribers"/> streams
/// (503 beyond), and a subscriber whose write has not gone out within
/// <see cref="AdminLimits.EventWriteTimeout"/> has stopped reading and is dropped. Each one has its
/// own bounded queue in the daemon (EventHub), so a stalled one never holds up the daemon or the
/// other subscribers.
/// </remarks>
internal sealed partial class EventStream(ProxyDaemon daemon, CancellationToken stopped, ILogger logger, TimeProvider time, int maxSubscribers, TimeSpan writeTimeout)
{
    /// <summary>Below the common 30-60 s idle timeouts of proxies and load balancers.</summary>
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    private readonly LogLimiter _refusedLog = new(time, AdminLimits.LogInterval);
    private readonly LogLimiter _droppedLog = new(time, AdminLimits.LogInterval);
    private int _subscribers;

    public EventStream(ProxyDaemon daemon, CancellationToken stopped, ILogger logger)
        : this(daemon, stopped, logger, TimeProvider.System, AdminLimits.MaxSubscribers, AdminLimits.EventWriteTimeout)
    {
    }

    /// <summary>Streams open now.</summary>
    public int Subscribers => Volatile.Read(ref _subscribers);

    public async Task RunAsync(HttpContext context)
    {
        if (Interlocked.Increment(ref _subscribers) > maxSubscribers)
        {
            Interlocked.Decrement(ref _subscribers);
            if (_refusedLog.ShouldLog(out var suppressed))
            {
                LogRefused(logger, maxSubscribers, suppressed);
            }

            await AdminRequestGate.RefuseAsync(context, $"too many /events subscribers: {maxSubscribers} streams open, the most the admin endpoint serves; try again later\n").ConfigureAwait(false);
            return;
        }

        try
        {
            await StreamAsync(context).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _subscribers);
        }
    }

    private async Task StreamAsync(HttpContext context)
    {
        var app = context.Request.Query["app"].ToString();
        var filter = string.IsNullOrWhiteSpace(app) ? null : app.Trim();
        var response = context.Response;
        LimitSendBuffer(context);

        using var end = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopped);
        var events = daemon.WatchEventsAsync(end.Token).GetAsyncEnumerator(end.Token);
        using var keepAlive = new PeriodicTimer(KeepAliveInterval);

        // Armed around each write: if it has not gone out in time, the connection is aborted,
        // which ends the pending flush and the stream. One timer per stream, re-armed per write.
        using var stalled = new CancellationTokenSource(Timeout.InfiniteTimeSpan, time);
        using var abortWhenStalled = stalled.Token.UnsafeRegister(static c => ((HttpContext)c!).Abort(), context);

        // The watch registers on its first MoveNextAsync, which runs up to its first wait: start it
        // before the headers go out, so a client that has the response sees every event published
        // after that.
        var next = events.MoveNextAsync().AsTask();
        try
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = "text/event-stream; charset=utf-8";
            response.Headers.CacheControl = "no-store";
            response.Headers["X-Accel-Buffering"] = "no"; // nginx in front: do not buffer the stream.
            context.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
            await WriteAsync(response, stalled, filter is null ? ": fproxy events\n\n" : $": fproxy events of app {filter}\n\n", end.Token).ConfigureAwait(false);

            var tick = keepAlive.WaitForNextTickAsync(end.Token).AsTask();
            while (true)
            {
                if (await Task.WhenAny(next, tick).ConfigureAwait(false) == tick)
                {
                    if (!await tick.ConfigureAwait(false))
                    {
                        break;
                    }

                    await WriteAsync(response, stalled, ": keepalive\n\n", end.Token).ConfigureAwait(false);
                    tick = keepAlive.WaitForNextTickAsync(end.Token).AsTask();
                    continue;
                }

                if (!await next.ConfigureAwait(false))
                {
                    break;
                }

                var daemonEvent = events.Current;
                next = events.MoveNextAsync().AsTask();
                if (filter is null || daemonEvent.App is null || string.Equals(daemonEvent.App, filter, StringComparison.OrdinalIgnoreCase))
                {
                    var json = JsonSerializer.Serialize(EventJson.From(daemonEvent), AdminJsonContext.Default.EventJson);
                    await WriteAsync(response, stalled, $"event: {daemonEvent.Type}\ndata: {json}\n\n", end.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && end.IsCancellationRequested)
        {
            // The client went away, stopped reading, or the host stopped: the stream simply ends.
        }
        finally
        {
            // An async iterator cannot be disposed while a MoveNextAsync is pending: end that first.
            await end.CancelAsync().ConfigureAwait(false);
            try
            {
                await next.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            await events.DisposeAsync().ConfigureAwait(false);
        }

        if (stalled.IsCancellationRequested && _droppedLog.ShouldLog(out var suppressed))
        {
            LogDropped(logger, context.Connection.RemoteIpAddress?.ToString() ?? "?", context.Connection.RemotePort, (long)writeTimeout.TotalMilliseconds, suppressed);
        }
    }

    private async Task WriteAsync(HttpResponse response, CancellationTokenSource stalled, string text, CancellationToken cancellationToken)
    {
        stalled.CancelAfter(writeTimeout);
        await response.WriteAsync(text, cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
        stalled.CancelAfter(Timeout.InfiniteTimeSpan);
    }

    /// <summary>See <see cref="AdminLimits.EventSendBuffer"/>.</summary>
    private static void LimitSendBuffer(HttpContext context)
    {
        if (context.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            try
            {
                socket.SendBufferSize = AdminLimits.EventSendBuffer;
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The client is already gone: the stream ends at its first write.
            }
        }
    }

    [LoggerMessage(1413, LogLevel.Warning, "admin endpoint: /events answered 503: {Max} streams already open ({Suppressed} more since the last report)")]
    private static partial void LogRefused(ILogger logger, int max, int suppressed);

    [LoggerMessage(1414, LogLevel.Warning, "admin endpoint: /events subscriber {Client}:{Port} dropped: it stopped reading (a write waited {TimeoutMs} ms) ({Suppressed} more since the last report)")]
    private static partial void LogDropped(ILogger logger, string client, int port, long timeoutMs, int suppressed);
}

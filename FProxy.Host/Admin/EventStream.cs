using System.Text.Json;
using FProxy.Daemon;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace FProxy.Host.Admin;

/// <summary>
/// GET /events: the daemon's events as server-sent events, one <c>event: TYPE</c> /
/// <c>data: JSON</c> pair each, flushed as it happens. <c>?app=NAME</c> keeps the events of that
/// app (case-insensitive) and those of no app (rollout.started, rollout.applied, a rejected
/// config), since they concern every app. A comment line every 15 s keeps idle proxies and load
/// balancers from cutting the stream. The stream ends when the client goes, or once the daemon
/// has drained at shutdown.
/// </summary>
internal static class EventStream
{
    /// <summary>Below the common 30-60 s idle timeouts of proxies and load balancers.</summary>
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(15);

    public static async Task RunAsync(HttpContext context, ProxyDaemon daemon, CancellationToken stopped)
    {
        var app = context.Request.Query["app"].ToString();
        var filter = string.IsNullOrWhiteSpace(app) ? null : app.Trim();
        var response = context.Response;

        using var end = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopped);
        var events = daemon.WatchEventsAsync(end.Token).GetAsyncEnumerator(end.Token);
        using var keepAlive = new PeriodicTimer(KeepAliveInterval);

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
            await response.WriteAsync(filter is null ? ": fproxy events\n\n" : $": fproxy events of app {filter}\n\n", end.Token).ConfigureAwait(false);
            await response.Body.FlushAsync(end.Token).ConfigureAwait(false);

            var tick = keepAlive.WaitForNextTickAsync(end.Token).AsTask();
            while (true)
            {
                if (await Task.WhenAny(next, tick).ConfigureAwait(false) == tick)
                {
                    if (!await tick.ConfigureAwait(false))
                    {
                        break;
                    }

                    await response.WriteAsync(": keepalive\n\n", end.Token).ConfigureAwait(false);
                    await response.Body.FlushAsync(end.Token).ConfigureAwait(false);
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
                    await response.WriteAsync($"event: {daemonEvent.Type}\ndata: {json}\n\n", end.Token).ConfigureAwait(false);
                    await response.Body.FlushAsync(end.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && end.IsCancellationRequested)
        {
            // The client went away, or the host stopped: the stream simply ends.
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
    }
}

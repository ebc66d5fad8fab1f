using FProxy.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace FProxy.Host.Admin;

/// <summary>
/// The first middleware of every admin request. It marks the connection busy while the request
/// runs (<see cref="AdminConnectionLimit"/> never closes a busy one to make room), lets probes
/// (/healthz, /readyz) through always, and answers anything else with 503 once
/// <see cref="AdminLimits.MaxRequestsInFlight"/> are in progress, so that connections busy with
/// slow work (a scrape read slowly, event streams) can never fill the cap and starve the probes.
/// With a <see cref="AdminToken"/>, every route but the probes needs <c>Authorization: Bearer</c>
/// and the token: load balancers keep their unauthenticated probes.
/// </summary>
internal sealed partial class AdminRequestGate(AdminConnectionLimit connections, int maxInFlight, ILogger logger, TimeProvider time, AdminToken? token = null)
{
    private readonly LogLimiter _refusedLog = new(time, AdminLimits.LogInterval);
    private readonly LogLimiter _unauthorizedLog = new(time, AdminLimits.LogInterval);
    private int _inFlight;

    public AdminRequestGate(AdminConnectionLimit connections, ILogger logger, AdminToken? token = null)
        : this(connections, AdminLimits.MaxRequestsInFlight, logger, TimeProvider.System, token)
    {
    }

    /// <summary>Requests other than probes in progress now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public static bool IsProbe(PathString path) =>
        path.Equals("/healthz", StringComparison.OrdinalIgnoreCase) || path.Equals("/readyz", StringComparison.OrdinalIgnoreCase);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var connection = context.Features.Get<AdminConnection>();
        if (connection is not null)
        {
            connections.BeginRequest(connection);
        }

        try
        {
            if (IsProbe(context.Request.Path))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            if (token is not null && !token.Accepts(context.Request.Headers.Authorization))
            {
                if (_unauthorizedLog.ShouldLog(out var refused))
                {
                    LogUnauthorized(logger, context.Request.Path.Value ?? "/", context.Connection.RemoteIpAddress?.ToString() ?? "?", refused);
                }

                await UnauthorizedAsync(context).ConfigureAwait(false);
                return;
            }

            if (Interlocked.Increment(ref _inFlight) > maxInFlight)
            {
                Interlocked.Decrement(ref _inFlight);
                if (_refusedLog.ShouldLog(out var suppressed))
                {
                    LogRefused(logger, context.Request.Path.Value ?? "/", maxInFlight, suppressed);
                }

                await RefuseAsync(context, $"admin endpoint busy: {maxInFlight} requests in progress, the most it serves at once besides /healthz and /readyz; try again later\n").ConfigureAwait(false);
                return;
            }

            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }
        finally
        {
            if (connection is not null)
            {
                connections.EndRequest(connection);
            }
        }
    }

    /// <summary>
    /// 503 with a one-line reason, and the connection closed after it: a client turned away must
    /// not keep a connection of the cap for its keep-alive.
    /// </summary>
    public static Task RefuseAsync(HttpContext context, string message)
    {
        context.Response.Headers.RetryAfter = "5";
        return EndAsync(context, StatusCodes.Status503ServiceUnavailable, message);
    }

    /// <summary>401 naming the scheme, and the connection closed after it, as for <see cref="RefuseAsync"/>.</summary>
    private static Task UnauthorizedAsync(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Bearer";
        return EndAsync(context, StatusCodes.Status401Unauthorized,
            "admin endpoint: this route needs \"Authorization: Bearer <token>\" with the node's FPROXY_ADMIN_TOKEN\n");
    }

    /// <summary>A one-line plain-text answer that closes the connection.</summary>
    private static Task EndAsync(HttpContext context, int status, string message)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "text/plain; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        response.Headers.Connection = "close";
        response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(message);
        return response.WriteAsync(message, context.RequestAborted);
    }

    [LoggerMessage(1417, LogLevel.Warning, "admin endpoint: {Path} from {Client} answered 401: no valid bearer token ({Suppressed} more since the last report)")]
    private static partial void LogUnauthorized(ILogger logger, string path, string client, int suppressed);

    [LoggerMessage(1412, LogLevel.Warning, "admin endpoint: {Path} answered 503: {Max} requests besides probes already in progress ({Suppressed} more since the last report)")]
    private static partial void LogRefused(ILogger logger, string path, int max, int suppressed);
}

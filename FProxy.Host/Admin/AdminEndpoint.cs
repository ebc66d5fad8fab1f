using System.Text.Json;
using FProxy.Configuration;
using FProxy.Daemon;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace FProxy.Host.Admin;

/// <summary>
/// The admin routes: /healthz, /readyz, /apps, /events (and /metrics, mapped by the Prometheus
/// exporter), behind <see cref="AdminRequestGate"/>. Each handler is a plain
/// <see cref="RequestDelegate"/>: no model binding, no reflection, nothing that the routes do not
/// need.
/// </summary>
internal static class AdminEndpoint
{
    private static readonly string[] GetOrHead = [HttpMethods.Get, HttpMethods.Head];

    public static void Map(IEndpointRouteBuilder routes)
    {
        var daemon = routes.ServiceProvider.GetRequiredService<ProxyDaemon>();
        var events = routes.ServiceProvider.GetRequiredService<EventStream>();
        var source = routes.ServiceProvider.GetRequiredService<IConfigSubscriber>();

        // Load balancers often probe with HEAD: both answer it too.
        routes.MapMethods("/healthz", GetOrHead, static context =>
        {
            SetNoCache(context.Response);
            context.Response.ContentType = "text/plain; charset=utf-8";
            return context.Response.WriteAsync("ok\n", context.RequestAborted);
        });
        routes.MapMethods("/readyz", GetOrHead, context =>
        {
            var readiness = daemon.GetReadiness();
            context.Response.StatusCode = readiness.Ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            return WriteJsonAsync(context, ReadinessJson.From(readiness), AdminJsonContext.Default.ReadinessJson);
        });
        routes.MapGet("/apps", context =>
        {
            var status = daemon.GetStatus();
            return WriteJsonAsync(context, StatusJson.From(status, SourceJson.From(source, status)), AdminJsonContext.Default.StatusJson);
        });
        routes.MapGet("/events", events.RunAsync);
    }

    private static Task WriteJsonAsync<T>(HttpContext context, T value, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo)
    {
        SetNoCache(context.Response);
        context.Response.ContentType = "application/json; charset=utf-8";
        return JsonSerializer.SerializeAsync(context.Response.Body, value, typeInfo, context.RequestAborted);
    }

    /// <summary>Every answer is about now: no cache in between may replay it.</summary>
    private static void SetNoCache(HttpResponse response) => response.Headers.CacheControl = "no-store";
}

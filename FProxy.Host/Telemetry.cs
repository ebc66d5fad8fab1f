using System.Collections;
using System.Runtime.CompilerServices;
using FProxy.Daemon;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace FProxy.Host;

/// <summary>
/// Exports the "FProxy" meter with OpenTelemetry: as Prometheus text at GET /metrics when the
/// admin endpoint is on, and pushed over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set. Neither:
/// no OpenTelemetry at all, and the instruments cost next to nothing (nobody listens).
/// </summary>
internal static class Telemetry
{
    public static void Add(IHostApplicationBuilder builder, HostSettings settings)
    {
        var prometheus = settings.Admin is not null;
        var otlp = settings.OtlpEndpoint is not null;
        if (prometheus || otlp)
        {
            AddExporters(builder, prometheus, otlp);
        }
    }

    /// <summary>Not inlined: without an exporter, the OpenTelemetry assemblies are never loaded.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void AddExporters(IHostApplicationBuilder builder, bool prometheus, bool otlp)
    {
        // The host reads no environment into its configuration (DisableDefaults), but the OTLP
        // exporter and the SDK take their standard settings from it: OTEL_EXPORTER_OTLP_PROTOCOL,
        // _HEADERS, OTEL_METRIC_EXPORT_INTERVAL, OTEL_SERVICE_NAME ... Hand them over, and only them.
        builder.Configuration.AddInMemoryCollection(OtelVariables());

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                // A service name given the standard way wins over the default.
                if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable("OTEL_SERVICE_NAME"))
                    && Environment.GetEnvironmentVariable("OTEL_RESOURCE_ATTRIBUTES")?.Contains("service.name=", StringComparison.Ordinal) != true)
                {
                    resource.AddService("fproxy", serviceVersion: typeof(ProxyDaemon).Assembly.GetName().Version?.ToString());
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter("FProxy");

                // The runtime's own instruments (GC heap, working set, threads, thread pool,
                // exceptions): what an operator looks at next to the proxy's when memory grows.
                // Observable, so they cost nothing between collections.
                metrics.AddMeter("System.Runtime");
                if (prometheus)
                {
                    metrics.AddPrometheusExporter();
                }

                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
    }

    private static IEnumerable<KeyValuePair<string, string?>> OtelVariables()
    {
        foreach (DictionaryEntry variable in Environment.GetEnvironmentVariables())
        {
            if (variable.Key is string key && key.StartsWith("OTEL_", StringComparison.Ordinal))
            {
                yield return new(key, variable.Value as string);
            }
        }
    }
}

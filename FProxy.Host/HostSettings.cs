using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Host.Admin;
using Microsoft.Extensions.Logging;

namespace FProxy.Host;

/// <summary>
/// The host's environment (FPROXY_* variables, and the standard OTEL_EXPORTER_OTLP_ENDPOINT), read
/// and validated once at start: an invalid value stops the process with exit code 2 and a message
/// naming the variable.
/// </summary>
internal sealed record HostSettings(string ConfigPath, LogLevel LogLevel, string? DnsServers)
{
    public const string ConfigPathVariable = "FPROXY_CONFIG_PATH";
    public const string LogLevelVariable = "FPROXY_LOG_LEVEL";
    public const string DnsServersVariable = "FPROXY_DNS_SERVERS";
    public const string AdminUrlVariable = "FPROXY_ADMIN_URL";
    public const string AdminTokenVariable = "FPROXY_ADMIN_TOKEN";
    public const string ShutdownDelayVariable = "FPROXY_SHUTDOWN_DELAY";
    public const string AccessLogVariable = "FPROXY_ACCESS_LOG";
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public const string TransportVariable = "FPROXY_TRANSPORT";
    public const string IoThreadsVariable = "FPROXY_IO_THREADS";
    public const string SpliceVariable = "FPROXY_SPLICE";

    /// <summary>Where the admin endpoint listens; null when FPROXY_ADMIN_URL is "none".</summary>
    public AdminAddress? Admin { get; init; } = AdminAddress.Default;

    /// <summary>The bearer token the admin routes (all but /healthz and /readyz) require; null for none, allowed on loopback only.</summary>
    public AdminToken? AdminToken { get; init; }

    /// <summary>How long listeners stay open after SIGTERM turned readiness false, before the drain.</summary>
    public TimeSpan ShutdownDelay { get; init; }

    /// <summary>Every app's finished connections are logged (FPROXY_ACCESS_LOG=1).</summary>
    public bool AccessLogAll { get; init; }

    /// <summary>The OTLP collector metrics are pushed to; null (the default) exports none.</summary>
    public Uri? OtlpEndpoint { get; init; }

    /// <summary>The transport (FPROXY_TRANSPORT: auto, epoll or sockets).</summary>
    public ProxyTransport Transport { get; init; }

    /// <summary>The epoll transport's event loops (FPROXY_IO_THREADS); null: one per processor.</summary>
    public int? IoThreads { get; init; }

    /// <summary>Whether bulk streams splice (FPROXY_SPLICE, default 1).</summary>
    public bool Splice { get; init; } = true;

    /// <summary>The etcd source (FPROXY_ETCD_ENDPOINTS and the rest); null: the config file.</summary>
    public FProxy.Etcd.EtcdOptions? Etcd { get; init; }

    /// <summary>Reads the settings; throws <see cref="ArgumentException"/> naming the bad variable.</summary>
    public static HostSettings FromEnvironment(Func<string, string?> getVariable)
    {
        var path = getVariable(ConfigPathVariable);
        if (path is not null && string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException($"{ConfigPathVariable} is set but empty");
        }

        var level = ParseLogLevel(getVariable(LogLevelVariable));
        var dns = getVariable(DnsServersVariable);
        var admin = ParseAdmin(getVariable(AdminUrlVariable));
        return new HostSettings(Path.GetFullPath(path ?? "config.json"), level, string.IsNullOrWhiteSpace(dns) ? null : dns)
        {
            Admin = admin,
            AdminToken = ParseAdminToken(getVariable(AdminTokenVariable), admin),
            ShutdownDelay = ParseShutdownDelay(getVariable(ShutdownDelayVariable)),
            AccessLogAll = ParseSwitch(AccessLogVariable, getVariable(AccessLogVariable)),
            OtlpEndpoint = ParseOtlpEndpoint(getVariable(OtlpEndpointVariable)),
            Transport = ParseTransport(getVariable(TransportVariable)),
            IoThreads = ParseIoThreads(getVariable(IoThreadsVariable)),
            Splice = getVariable(SpliceVariable) is not { } splice || ParseSwitch(SpliceVariable, splice),
            Etcd = EtcdSettings.FromEnvironment(getVariable),
        };
    }

    /// <summary>
    /// FPROXY_ADMIN_TOKEN: optional on loopback; required when the admin endpoint listens on any
    /// other address, where anyone who reaches it could read the config and the event stream.
    /// </summary>
    private static AdminToken? ParseAdminToken(string? value, AdminAddress? admin)
    {
        if (string.IsNullOrEmpty(value))
        {
            if (admin is { IsLoopback: false })
            {
                throw new ArgumentException(
                    $"{AdminTokenVariable} is required when {AdminUrlVariable} ({admin.Url}) is not a loopback address: "
                    + "requests to the admin routes then need \"Authorization: Bearer <token>\" (/healthz and /readyz stay open for load balancers)");
            }

            return null;
        }

        return AdminToken.Parse(value, AdminTokenVariable);
    }

    private static LogLevel ParseLogLevel(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" => LogLevel.Information,
        "TRACE" => LogLevel.Trace,
        "DEBUG" => LogLevel.Debug,
        "INFORMATION" or "INFO" => LogLevel.Information,
        "WARNING" or "WARN" => LogLevel.Warning,
        "ERROR" => LogLevel.Error,
        "CRITICAL" => LogLevel.Critical,
        _ => throw new ArgumentException(
            $"{LogLevelVariable}: \"{value}\" is not a log level (expected trace, debug, information, warning, error or critical)"),
    };

    private static AdminAddress? ParseAdmin(string? value)
    {
        if (value is null)
        {
            return AdminAddress.Default;
        }

        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException($"{AdminUrlVariable} is set but empty (expected http://IP:PORT, http://localhost:PORT or none)");
        }

        return string.Equals(value.Trim(), "none", StringComparison.OrdinalIgnoreCase) ? null : AdminAddress.Parse(value, AdminUrlVariable);
    }

    /// <summary>Unset or "0": no delay; otherwise a duration in the config file's syntax.</summary>
    private static TimeSpan ParseShutdownDelay(string? value)
    {
        var text = value?.Trim();
        if (string.IsNullOrEmpty(text) || text == "0")
        {
            return TimeSpan.Zero;
        }

        return Duration.TryParse(text, out var delay)
            ? delay
            : throw new ArgumentException($"{ShutdownDelayVariable}: \"{value}\" is not a duration ({Duration.Expected}, or 0 for none)");
    }

    private static ProxyTransport ParseTransport(string? value)
    {
        var transport = value?.Trim().ToUpperInvariant() switch
        {
            null or "" or "AUTO" => ProxyTransport.Auto,
            "EPOLL" => ProxyTransport.Epoll,
            "SOCKETS" => ProxyTransport.Sockets,
            _ => throw new ArgumentException($"{TransportVariable}: \"{value}\" is not a transport (expected auto, epoll or sockets)"),
        };
        if (transport == ProxyTransport.Epoll && !FProxy.Transport.Linux.EpollTransport.IsSupported)
        {
            throw new ArgumentException($"{TransportVariable}: epoll needs Linux on x64 or arm64 (use auto or sockets)");
        }

        return transport;
    }

    private static int? ParseIoThreads(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return int.TryParse(value.Trim(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var threads) && threads is >= 1 and <= 1024
            ? threads
            : throw new ArgumentException($"{IoThreadsVariable}: \"{value}\" is not a number of threads (expected 1 to 1024)");
    }

    private static bool ParseSwitch(string variable, string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" or "0" or "FALSE" => false,
        "1" or "TRUE" => true,
        _ => throw new ArgumentException($"{variable}: \"{value}\" is not a switch (expected 1, true, 0 or false)"),
    };

    /// <summary>
    /// Checked here so that a typo is a one-line start-up error rather than an exception from
    /// the exporter. The exporter itself reads this and the other OTEL_* variables.
    /// </summary>
    private static Uri? ParseOtlpEndpoint(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new ArgumentException($"{OtlpEndpointVariable}: \"{value}\" is not an http:// or https:// URL");
    }
}

using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using FProxy.Configuration;
using FProxy.Dns;
using FProxy.Etcd;
using FProxy.Host.Admin;
using FProxy.Hosting;
using FProxy.Transport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace FProxy.Host;

/// <summary>Entry point: environment to options, wiring, signals, exit codes.</summary>
internal static partial class Program
{
    /// <summary>Exit code for an invalid or missing config or FPROXY_* variable.</summary>
    public const int InvalidConfigExitCode = 2;

    /// <summary>Exit code when the process could not start serving: the admin endpoint cannot listen.</summary>
    public const int StartFailedExitCode = 1;

    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>The log category of the admin endpoint's own messages (its limits).</summary>
    private const string AdminLogCategory = "FProxy.Admin";

    private const string Usage = """
        Usage: FProxy.Host [--check]

        Runs the FProxy L4 proxy on the config file named by FPROXY_CONFIG_PATH
        (default ./config.json), reloading it when it changes; or, with
        FPROXY_ETCD_ENDPOINTS set, on the apps stored in etcd under FPROXY_ETCD_PREFIX.

          --check     validate the config (the file, or every app key in etcd), print the
                      result, exit 0 (valid), 2 (invalid, naming each problem) or 1 (etcd
                      cannot be reached)
          --help      show this help

        Environment:
          FPROXY_CONFIG_PATH     config file (default ./config.json)
          FPROXY_LOG_LEVEL       trace, debug, information (default), warning, error, critical
          FPROXY_DNS_SERVERS     comma-separated nameservers (IP or IP:port) instead of the system's
          FPROXY_ADMIN_URL       admin endpoint, http://IP:PORT or http://localhost:PORT
                                 (default http://127.0.0.1:9901), or none
          FPROXY_ADMIN_TOKEN     bearer token the admin routes need (all but /healthz and
                                 /readyz); required when FPROXY_ADMIN_URL is not loopback
          FPROXY_SHUTDOWN_DELAY  after SIGTERM, keep listeners open this long while /readyz
                                 answers 503, e.g. 5s (default 0)
          FPROXY_ACCESS_LOG      1 or true: log every finished connection of every app (default 0)
          FPROXY_TRANSPORT       auto (default: epoll on Linux, else sockets), epoll or sockets
          FPROXY_IO_THREADS      event loops of the epoll transport (default: one per processor)
          FPROXY_SPLICE          0 or false: never splice bulk streams (default 1)
          OTEL_EXPORTER_OTLP_ENDPOINT
                                 push metrics over OTLP to this collector (default: no push)

        etcd (a fleet of nodes sharing one config; docs/cluster.md):
          FPROXY_ETCD_ENDPOINTS  comma-separated URLs, e.g. http://10.0.0.1:2379,http://10.0.0.2:2379;
                                 selects etcd instead of the config file
          FPROXY_ETCD_PREFIX     key prefix (default /fproxy): apps at <prefix>/apps/<name>,
                                 node reports at <prefix>/nodes/<node-id>
          FPROXY_ETCD_USERNAME, FPROXY_ETCD_PASSWORD
                                 etcd user, when the cluster has authentication on
          FPROXY_ETCD_CA_FILE    PEM file of the CA for https:// endpoints
          FPROXY_NODE_ID         this node's id in the reports (default: the host name)
          FPROXY_STATE_DIR       where the last good config is kept (default: $STATE_DIRECTORY,
                                 else $XDG_STATE_HOME/fproxy, else ~/.local/state/fproxy)

        Admin endpoint: GET /healthz, /readyz, /apps, /events (server-sent events, ?app=NAME),
        /metrics (Prometheus text).

        Signals: SIGTERM or SIGINT turn /readyz to 503 at once, keep listeners open for
        FPROXY_SHUTDOWN_DELAY, close them, drain open connections up to each app's
        DrainTimeout, then exit 0. SIGHUP reads the config file again (as a change would);
        it never ends the process.

        Exit codes: 0 clean shutdown; 1 the admin endpoint could not listen; 2 invalid or
        missing config or FPROXY_* variable.
        """;

    public static async Task<int> Main(string[] args)
    {
        // Socket completions run inline on the epoll threads: measured to halve CPU per connection
        // (docs/architecture.md). Read once when the first socket is created, so set it before anything else.
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }

        var check = false;
        foreach (var arg in args)
        {
            switch (arg)
            {
                case "--check":
                    check = true;
                    break;
                case "--help" or "-h":
                    Console.Out.WriteLine(Usage);
                    return 0;
                default:
                    await Console.Error.WriteLineAsync($"fproxy: unknown argument \"{arg}\" (see --help)").ConfigureAwait(false);
                    return InvalidConfigExitCode;
            }
        }

        HostSettings settings;
        DnsOptions dns;
        ProxyConfig? config;
        try
        {
            settings = HostSettings.FromEnvironment(Environment.GetEnvironmentVariable);
            dns = new DnsOptions { Servers = DnsOptions.ParseServers(settings.DnsServers) };
            dns.Validate();

            // With etcd the apps come from the store, which may be unreachable now: nothing to load.
            config = settings.Etcd is null ? ConfigFile.Load(settings.ConfigPath) : null;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or ConfigException)
        {
            await Console.Error.WriteLineAsync($"fproxy: {e.Message}").ConfigureAwait(false);
            return InvalidConfigExitCode;
        }

        if (check)
        {
            if (settings.Etcd is { } etcd)
            {
                return await EtcdCheck.RunAsync(etcd).ConfigureAwait(false);
            }

            var ports = config!.Apps.Sum(static a => a.Ports.Count);
            Console.Out.WriteLine($"{settings.ConfigPath}: ok ({config.Apps.Count} app(s), {ports} port(s))");
            return 0;
        }

        using var host = Build(settings);
        var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FProxy.Host");
        try
        {
            await host.StartAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException && settings.Admin is { } admin)
        {
            // Kestrel's bind failure: an IOException wrapping the cause when the port is taken, the
            // bare SocketException when the address is not the machine's. Running without the admin
            // endpoint would leave the load balancer without readiness, so this is fatal; nothing
            // was proxied yet (see FProxyService).
            var reason = e is IOException { InnerException: { } inner } ? inner.Message : e.Message;
            await Console.Error.WriteLineAsync(
                $"fproxy: {HostSettings.AdminUrlVariable}: cannot listen on {admin.Url}: {reason.TrimEnd('.')}").ConfigureAwait(false);
            return StartFailedExitCode;
        }

        if (settings.Admin is { } listening)
        {
            LogAdminListening(logger, listening.Url);
            if (!listening.IsLoopback)
            {
                LogAdminExposed(logger, listening.Url);
            }
        }

        await host.WaitForShutdownAsync().ConfigureAwait(false);

        // The file became invalid between the check above and the service's first read.
        return host.Services.GetRequiredService<FProxyService>().SourceFailure is null ? Environment.ExitCode : InvalidConfigExitCode;
    }

    private static Socket BindShared(EndPoint endPoint)
    {
        if (endPoint is not IPEndPoint ip)
        {
            return SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
        }

        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.Address.Equals(IPAddress.IPv6Any))
            {
                socket.DualMode = true;
            }

            SocketSetup.EnableReusePort(socket);
            socket.Bind(ip);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static IHost Build(HostSettings settings)
    {
        // No defaults in either builder: they add appsettings.json watchers (one inotify instance
        // each) and environment-wide configuration this host does not use.
        if (settings.Admin is { } admin)
        {
            return BuildWithAdmin(settings, admin);
        }

        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        AddProxy(builder, settings);
        return builder.Build();
    }

    /// <summary>
    /// Kestrel with the admin routes. A method of its own (not inlined) so that with
    /// FPROXY_ADMIN_URL=none the ASP.NET Core assemblies are never loaded: each one mapped costs
    /// descriptors the proxied connections could use.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static IHost BuildWithAdmin(HostSettings settings, AdminAddress admin)
    {
        var web = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        web.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;

            // Probes, scrapes and a few event streams. The connection cap is not Kestrel's
            // MaxConcurrentConnections, which refuses at accept and so let silent clients starve
            // the probes: AdminConnectionLimit keeps it, giving an idle connection's place to a new
            // one (see there, and AdminLimits). A request must arrive within RequestTimeout: the
            // keep-alive timeout also times a new connection's wait for its first byte, and the
            // headers timeout the rest of the request.
            kestrel.Limits.KeepAliveTimeout = AdminLimits.RequestTimeout;
            kestrel.Limits.RequestHeadersTimeout = AdminLimits.RequestTimeout;
            var limit = kestrel.ApplicationServices.GetRequiredService<AdminConnectionLimit>();

            // HTTP/1.1 only: one request at a time per connection, which the accounting of busy
            // and idle connections relies on; probes, Prometheus and SSE clients all speak it.
            void Configure(ListenOptions listen)
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(limit.Middleware);
            }

            if (admin.Address is { } address)
            {
                kestrel.Listen(address, admin.Port, Configure);
            }
            else
            {
                kestrel.ListenLocalhost(admin.Port, Configure);
            }
        });
        // SO_REUSEPORT on the admin socket too: during a zero-downtime upgrade the new process
        // binds the proxy ports while the old one drains, and must bind the admin port as well.
        // A port held by anything else (no SO_REUSEPORT) still fails the start.
        web.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = BindShared);
        web.Services.AddRoutingCore();
        web.Services.AddSingleton(static sp => new AdminConnectionLimit(sp.GetRequiredService<ILoggerFactory>().CreateLogger(AdminLogCategory)));
        web.Services.AddSingleton(sp => new AdminRequestGate(
            sp.GetRequiredService<AdminConnectionLimit>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger(AdminLogCategory), settings.AdminToken));
        web.Services.AddSingleton(static sp => new EventStream(
            sp.GetRequiredService<FProxy.Daemon.ProxyDaemon>(), sp.GetRequiredService<FProxyService>().Stopped, sp.GetRequiredService<ILoggerFactory>().CreateLogger(AdminLogCategory)));
        AddProxy(web, settings);
        var app = web.Build();
        app.Use(app.Services.GetRequiredService<AdminRequestGate>().InvokeAsync);
        AdminEndpoint.Map(app);
        app.MapPrometheusScrapingEndpoint();
        return app;
    }

    private static void AddProxy(IHostApplicationBuilder builder, HostSettings settings)
    {
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(settings.LogLevel);
        builder.Logging.AddFilter("Microsoft", level => level >= LogLevel.Warning && level >= settings.LogLevel);

        // Its errors are start and stop failures, which propagate to Main: a failed admin bind is
        // reported there in one line, anything else as an unhandled exception. Logging them here
        // too would only add a stack trace.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);

        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
            o.IncludeScopes = false;
        });

        // The console logger queues lines for one writer thread. By default a full queue makes
        // the logging call wait, and with inline socket completions (docs/architecture.md) that call runs
        // on an epoll thread: a slow stdout (a stalled pipe, a busy terminal, an access log under
        // load) would stall every connection on that thread. Dropping lines instead keeps the
        // data path moving; the logger reports how many it dropped. 16,384 lines (a few MB) rides
        // out bursts such as a rollout of many ports or a connection storm with access logs on.
        builder.Services.Configure<ConsoleLoggerOptions>(o =>
        {
            o.QueueFullMode = ConsoleLoggerQueueFullMode.DropWrite;
            o.MaxQueueLength = 16_384;
        });

        builder.Services.AddSingleton(settings);
        builder.Services.AddMetrics();

        // The proxy and its whole lifetime (first config, reloads, SIGHUP, the shutdown sequence)
        // are the library's: the host only maps its environment variables onto the options.
        var proxy = builder.Services.AddFProxy(configure: o =>
        {
            o.ConfigPath = settings.ConfigPath;
            o.ShutdownDelay = settings.ShutdownDelay;
            o.Transport = settings.Transport;
            o.IoThreads = settings.IoThreads;
            o.Splice = settings.Splice;
            o.AccessLogAll = settings.AccessLogAll;
            o.DnsServers = settings.DnsServers;
        });
        if (settings.Etcd is { } etcd)
        {
            proxy.UseEtcd(etcd);
        }

        // Under systemd (Type=notify, deploy/fproxy.service): READY=1 once the first config is applied.
        proxy.UseSystemd();
        Telemetry.Add(builder, settings);
    }

    [LoggerMessage(1403, LogLevel.Information, "admin endpoint listening on {Url}: /healthz /readyz /apps /events /metrics")]
    private static partial void LogAdminListening(ILogger logger, string url);

    /// <summary>Only with FPROXY_ADMIN_TOKEN set (the start fails without): say what stays open.</summary>
    [LoggerMessage(1404, LogLevel.Information, "admin endpoint {Url} is not loopback: its routes need the bearer token of FPROXY_ADMIN_TOKEN, except /healthz and /readyz")]
    private static partial void LogAdminExposed(ILogger logger, string url);
}

using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Dns;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FProxy.Host;

/// <summary>Entry point: environment to options, wiring, signals, exit codes.</summary>
internal static partial class Program
{
    /// <summary>Exit code for an invalid or missing config or FPROXY_* variable.</summary>
    public const int InvalidConfigExitCode = 2;

    private const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    private const string Usage = """
        Usage: FProxy.Host [--check]

        Runs the FProxy L4 proxy on the config file named by FPROXY_CONFIG_PATH
        (default ./config.json), reloading it when it changes.

          --check     validate the config, print the result, exit 0 (valid) or 2 (invalid)
          --help      show this help

        Environment:
          FPROXY_CONFIG_PATH   config file (default ./config.json)
          FPROXY_LOG_LEVEL     trace, debug, information (default), warning, error, critical
          FPROXY_DNS_SERVERS   comma-separated nameservers (IP or IP:port) instead of the system's

        Signals: SIGTERM or SIGINT close every listener at once, drain open connections up to
        each app's DrainTimeout, then exit 0.
        """;

    public static async Task<int> Main(string[] args)
    {
        // Socket completions run inline on the epoll threads: measured to halve CPU per connection
        // (DESIGN.md). Read once when the first socket is created, so set it before anything else.
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
        ProxyConfig config;
        try
        {
            settings = HostSettings.FromEnvironment(Environment.GetEnvironmentVariable);
            dns = new DnsOptions { Servers = DnsOptions.ParseServers(settings.DnsServers) };
            dns.Validate();
            config = ConfigFile.Load(settings.ConfigPath);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException or ConfigException)
        {
            await Console.Error.WriteLineAsync($"fproxy: {e.Message}").ConfigureAwait(false);
            return InvalidConfigExitCode;
        }

        if (check)
        {
            var ports = config.Apps.Sum(static a => a.Ports.Count);
            Console.Out.WriteLine($"{settings.ConfigPath}: ok ({config.Apps.Count} app(s), {ports} port(s))");
            return 0;
        }

        var limit = OpenFilesLimit.Raise();
        using var host = Build(settings, dns, config);
        if (limit is { } l)
        {
            LogOpenFiles(host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FProxy.Host"), l.After, l.Before);
        }

        await host.RunAsync().ConfigureAwait(false);
        return Environment.ExitCode;
    }

    private static IHost Build(HostSettings settings, DnsOptions dns, ProxyConfig initial)
    {
        // No defaults: they add appsettings.json watchers (one inotify instance each) and
        // environment-wide configuration this host does not use.
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(settings.LogLevel);
        builder.Logging.AddFilter("Microsoft", level => level >= LogLevel.Warning && level >= settings.LogLevel);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
            o.UseUtcTimestamp = true;
            o.IncludeScopes = false;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ProxyService.ShutdownTimeoutFor(initial));
        builder.Services.AddSingleton(new ProxyDaemonOptions { Dns = dns });
        builder.Services.AddSingleton(sp => new ProxyDaemon(
            sp.GetRequiredService<ProxyDaemonOptions>(), sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton<IConfigSubscriber>(sp => new FileConfigSubscriber(
            settings.ConfigPath, sp.GetRequiredService<ILogger<FileConfigSubscriber>>()));
        builder.Services.AddHostedService<ProxyService>();
        return builder.Build();
    }

    /// <summary>Each proxied connection holds two descriptors: the limit sets the ceiling.</summary>
    [LoggerMessage(1401, LogLevel.Information, "open files limit {Limit} (soft limit was {Before}); each connection uses two")]
    private static partial void LogOpenFiles(ILogger logger, ulong limit, ulong before);
}

using System.Diagnostics.Metrics;
using FProxy.Configuration;
using FProxy.Daemon;
using FProxy.Dns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FProxy.Hosting;

/// <summary>Runs FProxy in any .NET generic host.</summary>
public static class FProxyServiceCollectionExtensions
{
    /// <summary>
    /// Registers the proxy and a hosted service that owns its whole lifetime: at start the
    /// process set-up (open-files limit), the config source's first snapshot and every later one;
    /// at stop readiness off, <see cref="FProxyOptions.ShutdownDelay"/>, listeners closed, each app's
    /// drain, with the host's shutdown timeout kept above the delay plus the longest DrainTimeout.
    /// </summary>
    /// <param name="services">The host's services.</param>
    /// <param name="configuration">A section to bind <see cref="FProxyOptions"/> from (e.g. <c>GetSection("FProxy")</c>); null for none.</param>
    /// <param name="configure">Sets options in code, after the section.</param>
    /// <returns>A builder for strategies, probes and the config source.</returns>
    /// <remarks>
    /// Sets <c>DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1</c> when it is unset, for the sockets
    /// transport's data path: the runtime reads it when the first socket is made, so call this
    /// before anything opens one (a warning at start says when it is not in force).
    /// </remarks>
    public static FProxyBuilder AddFProxy(this IServiceCollection services, IConfiguration? configuration = null, Action<FProxyOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ProcessSetup.RequestInlineCompletions();
        var builder = new FProxyBuilder(services);
        var options = services.AddOptions<FProxyOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FProxyOptions>, FProxyOptionsValidator>());
        services.AddSingleton(builder);
        services.AddSingleton(CreateDaemon);
        services.TryAddSingleton(CreateFileSource);
        services.AddSingleton<FProxyService>();
        services.AddHostedService(static sp => sp.GetRequiredService<FProxyService>());
        return builder;
    }

    private static ProxyDaemon CreateDaemon(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<FProxyOptions>>().Value;
        var daemonOptions = new ProxyDaemonOptions
        {
            Transport = options.Transport,
            IoThreads = options.IoThreads ?? Environment.ProcessorCount,
            Splice = options.Splice,
            AccessLogAll = options.AccessLogAll,
            Dns = new DnsOptions { Servers = DnsOptions.ParseServers(options.DnsServers) },
            MeterFactory = services.GetService<IMeterFactory>(),
        };
        foreach (var plugin in services.GetRequiredService<FProxyBuilder>().Plugins)
        {
            plugin(daemonOptions);
        }

        foreach (var configuration in services.GetServices<FProxyBuilder.DaemonConfiguration>())
        {
            configuration.Configure(daemonOptions);
        }

        return new ProxyDaemon(daemonOptions, services.GetService<ILoggerFactory>(), services.GetService<TimeProvider>());
    }

    private static IConfigSubscriber CreateFileSource(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<FProxyOptions>>().Value;
        var logger = services.GetService<ILogger<FileConfigSubscriber>>() ?? Microsoft.Extensions.Logging.Abstractions.NullLogger<FileConfigSubscriber>.Instance;
        return new FileConfigSubscriber(Path.GetFullPath(options.ConfigPath), logger, schema: services.GetRequiredService<ProxyDaemon>().Schema);
    }
}

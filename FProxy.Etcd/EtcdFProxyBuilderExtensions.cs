using FProxy.Daemon;
using FProxy.Etcd.Source;
using FProxy.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FProxy.Etcd;

/// <summary>Makes etcd the config source of a host built with <c>AddFProxy</c>.</summary>
public static class EtcdFProxyBuilderExtensions
{
    /// <summary>
    /// Takes the apps from etcd instead of the config file, keeps <c>&lt;prefix&gt;/nodes/&lt;node-id&gt;</c>
    /// reporting what this node serves, and (with <see cref="EtcdOptions.StateDirectory"/>) keeps
    /// the last good config on disk.
    /// </summary>
    /// <param name="builder">The builder <c>AddFProxy</c> returned.</param>
    /// <param name="configure">Sets the endpoints and the rest of <see cref="EtcdOptions"/>.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names every problem.</exception>
    public static FProxyBuilder UseEtcd(this FProxyBuilder builder, Action<EtcdOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var options = new EtcdOptions();
        configure(options);
        return builder.UseEtcd(options);
    }

    /// <summary>As <see cref="UseEtcd(FProxyBuilder, Action{EtcdOptions})"/>, with options made already.</summary>
    /// <param name="builder">The builder <c>AddFProxy</c> returned.</param>
    /// <param name="options">The endpoints and the rest; not to be changed afterwards.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">The options are invalid; the message names every problem.</exception>
    public static FProxyBuilder UseEtcd(this FProxyBuilder builder, EtcdOptions options)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid etcd options: " + string.Join("; ", errors), nameof(options));
        }

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(static sp => new EtcdConnection(sp.GetRequiredService<EtcdOptions>()));
        builder.Services.AddSingleton(static sp => new EtcdConfigSubscriber(
            sp.GetRequiredService<EtcdConnection>(),
            sp.GetRequiredService<ILogger<EtcdConfigSubscriber>>(),
            sp.GetRequiredService<ProxyDaemon>().Schema,
            sp.GetService<TimeProvider>()));
        builder.UseConfigSource(static sp => sp.GetRequiredService<EtcdConfigSubscriber>());
        builder.Services.AddHostedService(static sp => new NodeReporter(
            sp.GetRequiredService<EtcdConnection>(),
            sp.GetRequiredService<EtcdConfigSubscriber>(),
            sp.GetRequiredService<ProxyDaemon>(),
            sp.GetRequiredService<ILogger<NodeReporter>>(),
            sp.GetService<TimeProvider>() ?? TimeProvider.System));
        return builder;
    }
}

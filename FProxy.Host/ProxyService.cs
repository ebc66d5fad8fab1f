using FProxy.Configuration;
using FProxy.Daemon;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FProxy.Host;

/// <summary>
/// Runs the daemon on the config subscriber's snapshots, and drains it on shutdown. Keeps the
/// host's shutdown timeout above the running config's longest DrainTimeout, so a long drain is
/// never cut short.
/// </summary>
internal sealed partial class ProxyService(
    ProxyDaemon daemon,
    IConfigSubscriber subscriber,
    IOptions<HostOptions> hostOptions,
    IHostApplicationLifetime lifetime,
    ILogger<ProxyService> logger) : BackgroundService
{
    /// <summary>Drain plus a margin for the resets and the host's own teardown.</summary>
    public static TimeSpan ShutdownTimeoutFor(ProxyConfig config) =>
        (config.Apps.Count == 0 ? TimeSpan.Zero : config.Apps.Max(static a => a.DrainTimeout)) + TimeSpan.FromSeconds(10);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        await daemon.StopAsync(CancellationToken.None).ConfigureAwait(false);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var config in subscriber.WatchAsync(stoppingToken).ConfigureAwait(false))
            {
                await daemon.ApplyAsync(config, stoppingToken).ConfigureAwait(false);

                // HostOptions is read when the host stops, so a reload that lengthens a
                // DrainTimeout lengthens the shutdown allowance too.
                hostOptions.Value.ShutdownTimeout = ShutdownTimeoutFor(config);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (ConfigException e)
        {
            // The file changed between the start-up check and the first read.
            LogInvalidConfig(logger, e.Message);
            Environment.ExitCode = Program.InvalidConfigExitCode;
            lifetime.StopApplication();
        }
    }

    [LoggerMessage(1400, LogLevel.Critical, "{Message}")]
    private static partial void LogInvalidConfig(ILogger logger, string message);
}

using System.Runtime.InteropServices;
using FProxy.Configuration;
using FProxy.Daemon;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FProxy.Host;

/// <summary>
/// Runs the daemon on the config subscriber's snapshots, and shuts it down in the order a load
/// balancer needs: readiness false at once, listeners open for the shutdown delay, then the drain.
/// Keeps the host's shutdown timeout above delay plus the running config's longest DrainTimeout,
/// so a long drain is never cut short.
/// </summary>
/// <remarks>
/// Both halves run in the lifecycle hooks around the other hosted services (Kestrel's among
/// them): the first config is applied in <see cref="StartedAsync"/>, after the admin endpoint is
/// bound, so a taken admin port stops the start before any proxy port is bound; the drain runs
/// in <see cref="StoppingAsync"/>, before Kestrel stops, so /readyz and /healthz keep answering
/// until the last connection is gone.
/// </remarks>
internal sealed partial class ProxyService(
    ProxyDaemon daemon,
    IConfigSubscriber subscriber,
    HostSettings settings,
    IOptions<HostOptions> hostOptions,
    IHostApplicationLifetime lifetime,
    ILogger<ProxyService> logger) : IHostedLifecycleService, IDisposable
{
    private readonly CancellationTokenSource _watchStop = new();
    private readonly CancellationTokenSource _stopped = new();
    private Task _watch = Task.CompletedTask;
    private PosixSignalRegistration? _hangup;
    private int _stopping;

    /// <summary>Cancelled once the daemon has drained: admin streams end then.</summary>
    public CancellationToken Stopped => _stopped.Token;

    /// <summary>Shutdown delay plus drain plus a margin for the resets and the host's own teardown.</summary>
    public static TimeSpan ShutdownTimeoutFor(ProxyConfig config, TimeSpan shutdownDelay) =>
        shutdownDelay
        + (config.Apps.Count == 0 ? TimeSpan.Zero : config.Apps.Max(static a => a.DrainTimeout))
        + TimeSpan.FromSeconds(10);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Starts watching the config. Runs synchronously up to the first wait, so the first config is
    /// applied (and every port that can be bound is) when this returns.
    /// </summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        // SIGTERM reaches the host as ApplicationStopping; readiness turns false at that moment,
        // before the host gets round to the stop hooks.
        lifetime.ApplicationStopping.Register(static state => ((ProxyDaemon)state!).BeginShutdown(), daemon);

        // SIGHUP is how operators ask a daemon to reload (and what a closing terminal sends): its
        // default action would end the process and cut every connection.
        _hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, OnHangup);
        _watch = WatchAsync(_watchStop.Token);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopping, 1) == 1)
        {
            return;
        }

        daemon.BeginShutdown();

        // No reload is applied while shutting down.
        await _watchStop.CancelAsync().ConfigureAwait(false);
        await _watch.ConfigureAwait(false);

        if (settings.ShutdownDelay > TimeSpan.Zero)
        {
            LogShutdownDelay(logger, Duration.Format(settings.ShutdownDelay));
            try
            {
                await Task.Delay(settings.ShutdownDelay, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The host's shutdown timeout ran out: drain now.
            }
        }

        // Not cancellable: the daemon bounds the drain with each app's DrainTimeout, and the
        // shutdown timeout is sized to let it finish.
        await daemon.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _stopped.CancelAsync().ConfigureAwait(false);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        _hangup?.Dispose();
        _watchStop.Dispose();
        _stopped.Dispose();
    }

    private async Task WatchAsync(CancellationToken stoppingToken)
    {
        try
        {
            // The daemon hears the source's rejections, and reports (rather than throws) a snapshot
            // that is invalid or fails to apply, so no snapshot ends the watch.
            await foreach (var config in subscriber.WatchAsync(daemon, stoppingToken).ConfigureAwait(false))
            {
                if (!await daemon.TryApplyAsync(config, stoppingToken).ConfigureAwait(false))
                {
                    continue;
                }

                // HostOptions is read when the host stops, so a reload that lengthens a
                // DrainTimeout lengthens the shutdown allowance too.
                hostOptions.Value.ShutdownTimeout = ShutdownTimeoutFor(config, settings.ShutdownDelay);
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

    private void OnHangup(PosixSignalContext context)
    {
        context.Cancel = true;
        if (subscriber is FileConfigSubscriber file)
        {
            LogHangup(logger, file.FilePath);
            file.Reload();
        }
        else
        {
            LogHangupIgnored(logger, subscriber.GetType().Name);
        }
    }

    [LoggerMessage(1406, LogLevel.Information, "SIGHUP: reading config {Path} again")]
    private static partial void LogHangup(ILogger logger, string path);

    [LoggerMessage(1407, LogLevel.Information, "SIGHUP ignored: the config source {Source} follows its changes on its own")]
    private static partial void LogHangupIgnored(ILogger logger, string source);

    [LoggerMessage(1400, LogLevel.Critical, "{Message}")]
    private static partial void LogInvalidConfig(ILogger logger, string message);

    /// <summary>Readiness is already false; the load balancer has this long to notice before listeners close.</summary>
    [LoggerMessage(1402, LogLevel.Information, "shutting down: not ready; listeners stay open for {Delay} (FPROXY_SHUTDOWN_DELAY), then drain")]
    private static partial void LogShutdownDelay(ILogger logger, string delay);
}

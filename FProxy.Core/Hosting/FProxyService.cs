using System.Runtime.InteropServices;
using FProxy.Configuration;
using FProxy.Daemon;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FProxy.Hosting;

/// <summary>
/// Runs the daemon on the config source's snapshots, and shuts it down in the order a load
/// balancer needs: readiness false at once, listeners open for the shutdown delay, then the drain.
/// Keeps the host's shutdown timeout above delay plus the running config's longest DrainTimeout,
/// so a long drain is never cut short.
/// </summary>
/// <remarks>
/// Both halves run in the lifecycle hooks around the other hosted services (a web server's among
/// them): the first config is applied in <see cref="StartedAsync"/>, after they started, so a host
/// whose admin port is taken stops before any proxy port is bound; the drain runs in
/// <see cref="StoppingAsync"/>, before they stop, so health endpoints keep answering until the last
/// connection is gone.
/// </remarks>
internal sealed class FProxyService(
    ProxyDaemon daemon,
    IConfigSubscriber source,
    IOptions<FProxyOptions> options,
    IOptions<HostOptions> hostOptions,
    IHostApplicationLifetime lifetime,
    ILogger<FProxyService> logger) : IHostedLifecycleService, IDisposable
{
    /// <summary>Margin for the resets and the host's own teardown after the longest drain.</summary>
    private static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _watchStop = new();
    private readonly CancellationTokenSource _stopped = new();
    private Task _watch = Task.CompletedTask;
    private PosixSignalRegistration? _hangup;
    private int _stopping;

    /// <summary>Cancelled once the daemon has drained: streams that follow it (admin events) end then.</summary>
    public CancellationToken Stopped => _stopped.Token;

    /// <summary>What ended the config source at its start (its first config could not be read), or null.</summary>
    public ConfigException? SourceFailure { get; private set; }

    /// <summary>Shutdown delay plus the longest drain plus a margin for the resets and the host's own teardown.</summary>
    public static TimeSpan ShutdownTimeoutFor(ProxyConfig config, TimeSpan shutdownDelay) =>
        shutdownDelay
        + (config.Apps.Count == 0 ? TimeSpan.Zero : config.Apps.Max(static a => a.DrainTimeout))
        + ShutdownMargin;

    /// <summary>The process set-up the data path needs, before anything is bound.</summary>
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        if (options.Value.RaiseOpenFilesLimit && OpenFilesLimit.Raise() is { } limit)
        {
            HostingLog.OpenFiles(logger, limit.After, limit.Hard, limit.After / 2);
            if (limit.After < 4096)
            {
                HostingLog.OpenFilesLow(logger, limit.After, limit.Hard, limit.After / 2);
            }
        }

        var sockets = options.Value.Transport == ProxyTransport.Sockets
            || (options.Value.Transport == ProxyTransport.Auto && !Transport.Linux.EpollTransport.IsSupported);
        if (sockets && !ProcessSetup.InlineCompletionsRequested)
        {
            HostingLog.InlineCompletionsOff(logger, ProcessSetup.InlineCompletionsVariable,
                Environment.GetEnvironmentVariable(ProcessSetup.InlineCompletionsVariable) ?? "(unset)");
        }

        // Said at start, while the sysctl can still be set before a handover needs it.
        switch (MigrateRequests.IsEnabled())
        {
            case false:
                HostingLog.MigrateRequestsOff(logger);
                break;
            case null:
                HostingLog.MigrateRequestsUnknown(logger, MigrateRequests.SettingPath);
                break;
        }

        hostOptions.Value.ShutdownTimeout = ShutdownTimeoutFor(daemon.Current, options.Value.ShutdownDelay);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Starts following the config source. Runs synchronously up to the first wait, so with a source
    /// that has its first config at hand (the file) it is applied, and every port that can be bound
    /// is, when this returns.
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

        var delay = options.Value.ShutdownDelay;
        if (delay > TimeSpan.Zero)
        {
            HostingLog.ShutdownDelay(logger, Duration.Format(delay));
            try
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
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
            await foreach (var config in source.WatchAsync(daemon, stoppingToken).ConfigureAwait(false))
            {
                if (await daemon.TryApplyAsync(config, stoppingToken).ConfigureAwait(false))
                {
                    // HostOptions is read when the host stops, so a reload that lengthens a
                    // DrainTimeout lengthens the shutdown allowance too.
                    hostOptions.Value.ShutdownTimeout = ShutdownTimeoutFor(config, options.Value.ShutdownDelay);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        catch (ConfigException e)
        {
            // The source could not produce a first config (the file changed between a host's
            // start-up check and the first read): nothing to serve.
            SourceFailure = e;
            HostingLog.SourceFailed(logger, e.Message);
            lifetime.StopApplication();
        }
    }

    private void OnHangup(PosixSignalContext context)
    {
        context.Cancel = true;
        if (source is FileConfigSubscriber file)
        {
            HostingLog.Hangup(logger, file.FilePath);
            file.Reload();
        }
        else
        {
            HostingLog.HangupIgnored(logger, source.GetType().Name);
        }
    }
}

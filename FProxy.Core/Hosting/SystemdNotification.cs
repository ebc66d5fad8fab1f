using FProxy.Daemon;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace FProxy.Hosting;

/// <summary>
/// Tells systemd (<c>Type=notify</c>) that the proxy is ready when it first is, as /readyz says:
/// its first config applied and its ports bound, not when the host has merely started (a config
/// from etcd may come later). Until then the unit's status line says why not (<c>STATUS=</c>);
/// <c>STOPPING=1</c> goes as soon as shutdown begins. Without NOTIFY_SOCKET (not run by systemd)
/// it does nothing.
/// </summary>
internal sealed class SystemdNotification(ISystemdNotifier notifier, ProxyDaemon daemon, IHostApplicationLifetime lifetime, ILogger<SystemdNotification> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled)
        {
            return;
        }

        using var stopping = lifetime.ApplicationStopping.Register(() => notifier.Notify(ServiceState.Stopping));

        // Subscribe before looking at the version, so an apply in between is not missed.
        var events = daemon.WatchEventsAsync(stoppingToken).GetAsyncEnumerator(stoppingToken);
        try
        {
            var next = events.MoveNextAsync();
            string? status = null;
            while (daemon.GetReadiness() is { Ready: false } readiness)
            {
                var waiting = "not ready: " + string.Join("; ", readiness.Reasons);
                if (!string.Equals(waiting, status, StringComparison.Ordinal))
                {
                    notifier.Notify(new ServiceState("STATUS=" + waiting));
                    status = waiting;
                }

                if (!await next.ConfigureAwait(false))
                {
                    return;
                }

                next = events.MoveNextAsync();
            }

            notifier.Notify(new ServiceState("READY=1\nSTATUS=ready"));
            HostingLog.SystemdReady(logger, daemon.Version);

            await Task.Delay(Timeout.Infinite, stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down: STOPPING=1 was sent when it began.
        }
        finally
        {
            await events.DisposeAsync().ConfigureAwait(false);
        }
    }
}

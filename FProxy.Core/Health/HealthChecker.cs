using System.Net.Sockets;
using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.ProxyProtocol;
using Microsoft.Extensions.Logging;

namespace FProxy.Health;

/// <summary>
/// Probes one target every Interval, off the data path, and feeds each verdict to its
/// <see cref="TargetHealth"/>. The first probe runs at once, so a target that is down when the
/// config is applied is found out within UnhealthyThreshold probes.
/// </summary>
internal sealed class HealthChecker
{
    private readonly string _app;
    private readonly TargetHealth _health;
    private readonly HealthCheckConfig _config;
    private readonly IHealthProbe _probe;
    private readonly Func<TargetConfig, CancellationToken, ValueTask<Socket>> _connect;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly int _generation;

    public HealthChecker(
        string app,
        TargetHealth health,
        HealthCheckConfig config,
        IHealthProbe probe,
        Func<TargetConfig, CancellationToken, ValueTask<Socket>> connect,
        TimeProvider time,
        ILogger logger)
    {
        _app = app;
        _health = health;
        _config = config;
        _probe = probe;
        _connect = connect;
        _time = time;
        _logger = logger;
        _generation = health.Generation;
    }

    public Task Running { get; private set; } = Task.CompletedTask;

    public void Start() => Running = Task.Run(() => RunAsync(_stop.Token));

    public void Stop()
    {
        _stop.Cancel();
        _stop.Dispose();
    }

    private async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var started = _time.GetTimestamp();
                var (passed, reason) = await ProbeOnceAsync(stop).ConfigureAwait(false);
                if (stop.IsCancellationRequested)
                {
                    return;
                }

                if (!passed)
                {
                    BalancingLog.ProbeFailed(_logger, _app, _health.Target.ToString(), reason!);
                }

                _health.ProbeCompleted(passed, reason, _config, _generation);
                var wait = _config.Interval - _time.GetElapsedTime(started);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, _time, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Stopped: the target or the check left the config.
        }
    }

    /// <summary>
    /// A probe's connection to a target that expects PROXY protocol headers: a LOCAL one (v1:
    /// UNKNOWN) goes first, so the target takes the probe for the proxy's own, not an error.
    /// </summary>
    private async ValueTask<Socket> ConnectWithHeaderAsync(TargetConfig target, ProxyProtocolVersion version, CancellationToken token)
    {
        var socket = await _connect(target, token).ConfigureAwait(false);
        try
        {
            var header = new byte[ProxyHeaderWriter.MaxLength];
            var length = ProxyHeaderWriter.WriteLocal(header, (int)version);
            await socket.SendAsync(header.AsMemory(0, length), SocketFlags.None, token).ConfigureAwait(false);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private async Task<(bool Passed, string? Reason)> ProbeOnceAsync(CancellationToken stop)
    {
        // The injected clock times the probe, so tests can run checks without real waits.
        using var timeout = new CancellationTokenSource(_config.Timeout, _time);
        using var link = stop.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), timeout);
        var header = _health.ProbeHeader;
        var context = new HealthProbeContext(_app, _health.Target.Config, _config,
            header == ProxyProtocolVersion.None ? _connect : (target, token) => ConnectWithHeaderAsync(target, header, token));
        try
        {
            var result = await _probe.CheckAsync(context, timeout.Token).ConfigureAwait(false);
            return (result.Healthy, result.Healthy ? null : result.Reason ?? "the probe failed");
        }
        catch (OperationCanceledException) when (!stop.IsCancellationRequested)
        {
            return (false, $"no answer within the check Timeout {Duration.Format(_config.Timeout)}");
        }
        catch (OperationCanceledException)
        {
            return (false, "stopped");
        }
#pragma warning disable CA1031 // Whatever a probe throws is a failed check with a reason, never a dead checker.
        catch (Exception e)
#pragma warning restore CA1031
        {
            return (false, e.Message);
        }
    }
}

using System.Net.Sockets;
using FProxy.Configuration;

namespace FProxy.Health;

/// <summary>What a probe gets: the target, the app's check settings, and a connect that uses the proxy's address table.</summary>
public sealed class HealthProbeContext
{
    private readonly Func<TargetConfig, CancellationToken, ValueTask<Socket>> _connect;

    internal HealthProbeContext(string app, TargetConfig target, HealthCheckConfig config, Func<TargetConfig, CancellationToken, ValueTask<Socket>> connect)
    {
        App = app;
        Target = target;
        Config = config;
        _connect = connect;
    }

    /// <summary>The app whose target this is.</summary>
    public string App { get; }

    /// <summary>The target to probe.</summary>
    public TargetConfig Target { get; }

    /// <summary>The app's health check settings (Send, Expect, Timeout ...).</summary>
    public HealthCheckConfig Config { get; }

    /// <summary>
    /// Opens a TCP connection to the target as the proxy would (its address table, Happy
    /// Eyeballs). The caller owns and disposes the socket.
    /// </summary>
    /// <param name="cancellationToken">Stops the attempt.</param>
    /// <exception cref="SocketException">The target could not be reached; the message says why.</exception>
    public ValueTask<Socket> ConnectAsync(CancellationToken cancellationToken) => _connect(Target, cancellationToken);
}

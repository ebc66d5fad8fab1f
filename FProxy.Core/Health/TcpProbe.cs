namespace FProxy.Health;

/// <summary>The default probe: a target is healthy when it accepts a TCP connection.</summary>
internal sealed class TcpProbe : IHealthProbe
{
    public static readonly TcpProbe Instance = new();

    public async ValueTask<HealthProbeResult> CheckAsync(HealthProbeContext context, CancellationToken cancellationToken)
    {
        using var socket = await context.ConnectAsync(cancellationToken).ConfigureAwait(false);
        return HealthProbeResult.Pass;
    }
}

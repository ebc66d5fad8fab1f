namespace FProxy.Configuration;

/// <summary>
/// Active health checking of an app's targets: each target is probed every
/// <see cref="Interval"/>, off the data path. A healthy target turns unhealthy after
/// <see cref="UnhealthyThreshold"/> failed probes in a row and healthy again after
/// <see cref="HealthyThreshold"/> passed ones. Targets start healthy.
/// </summary>
public sealed record HealthCheckConfig
{
    /// <summary>The built-in probe that only opens a TCP connection.</summary>
    public const string TcpProbe = "tcp";

    /// <summary>The built-in probe that sends <see cref="Send"/> and expects <see cref="Expect"/> in the reply.</summary>
    public const string SendExpectProbe = "send-expect";

    /// <summary>Default for <see cref="Interval"/>.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(5);

    /// <summary>Default for <see cref="Timeout"/>.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Default for <see cref="HealthyThreshold"/>.</summary>
    public const int DefaultHealthyThreshold = 2;

    /// <summary>Default for <see cref="UnhealthyThreshold"/>.</summary>
    public const int DefaultUnhealthyThreshold = 3;

    /// <summary>Time from the start of one probe of a target to the start of the next.</summary>
    public TimeSpan Interval { get; init; } = DefaultInterval;

    /// <summary>Budget of one probe, connect included; at most <see cref="Interval"/>.</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;

    /// <summary>Passed probes in a row that make an unhealthy target healthy.</summary>
    public int HealthyThreshold { get; init; } = DefaultHealthyThreshold;

    /// <summary>Failed probes in a row that make a healthy target unhealthy.</summary>
    public int UnhealthyThreshold { get; init; } = DefaultUnhealthyThreshold;

    /// <summary>Bytes (the string's UTF-8) sent once connected, or null to send nothing.</summary>
    public string? Send { get; init; }

    /// <summary>Text the reply must contain (UTF-8, compared byte for byte), or null to read nothing.</summary>
    public string? Expect { get; init; }

    /// <summary>
    /// The probe kind, by registered name: <see cref="TcpProbe"/> (the default),
    /// <see cref="SendExpectProbe"/> (the default when Send or Expect is set), or a custom one.
    /// </summary>
    public string Probe { get; init; } = TcpProbe;
}

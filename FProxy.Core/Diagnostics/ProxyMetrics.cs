using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FProxy.Diagnostics;

/// <summary>
/// The instruments of the "FProxy" meter (docs/observability.md lists them). Connection counts,
/// traffic and state are observed at collection time from counters the data path keeps anyway
/// (<see cref="Connections"/> for the counts), so a port or app that leaves the config leaves the
/// exported series too. Connect durations are recorded per connect with a <see cref="TagList"/>
/// whose values are already objects, so recording allocates nothing; a histogram has no
/// observable form, so its series outlive a removed app or target (docs/observability.md).
/// </summary>
internal sealed class ProxyMetrics : IDisposable
{
    public const string MeterName = "FProxy";

    private readonly Meter _meter;
    private readonly Histogram<double> _connectDuration;
    private readonly Counter<long> _rollouts;

    public ProxyMetrics(IMeterFactory? factory, Observations observations)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        _meter.CreateObservableCounter("fproxy.connections.accepted", Connections.ObserveAccepted, "{connection}", "Client connections accepted.");
        _meter.CreateObservableUpDownCounter("fproxy.connections.active", Connections.ObserveActive, "{connection}", "Client connections open now.");
        _meter.CreateObservableCounter("fproxy.connections.failed", Connections.ObserveFailed, "{connection}",
            "Client connections that ended in failure, by reason: no_target, timeout, refused, reset, limit, proxy_malformed, proxy_timeout, proxy_untrusted.");
        _connectDuration = _meter.CreateHistogram<double>("fproxy.upstream.connect.duration", "s",
            "Time to connect to a target, per successful connect.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] });
        _rollouts = _meter.CreateCounter<long>("fproxy.rollouts", "{rollout}", "Config snapshots handled, by result: applied, partial (a port not bound yet), rejected (invalid), failed (an error while applying).");
        _meter.CreateObservableCounter("fproxy.bytes", observations.Bytes, "By",
            "Bytes forwarded, by app, target and direction (client_to_target, target_to_client).");
        _meter.CreateObservableGauge("fproxy.targets.healthy", observations.HealthyTargets, "{target}", "Targets of each app that take connections now.");
        _meter.CreateObservableGauge("fproxy.target.connections.active", observations.TargetConnections, "{connection}", "Connections open to each target.");
        _meter.CreateObservableGauge("fproxy.listener.state", observations.Listeners, "{listener}", "1 when the port's listener is bound and accepting, 0 when it is being retried.");
    }

    /// <summary>Accepted, open and failed connections per app and port, which the connection instruments report.</summary>
    public ConnectionSeries Connections { get; } = new();

    /// <summary>Where the other observable instruments read their values (the daemon's state).</summary>
    internal sealed class Observations(
        Func<IEnumerable<Measurement<long>>> bytes,
        Func<IEnumerable<Measurement<int>>> healthyTargets,
        Func<IEnumerable<Measurement<int>>> targetConnections,
        Func<IEnumerable<Measurement<int>>> listeners)
    {
        public Func<IEnumerable<Measurement<long>>> Bytes { get; } = bytes;

        public Func<IEnumerable<Measurement<int>>> HealthyTargets { get; } = healthyTargets;

        public Func<IEnumerable<Measurement<int>>> TargetConnections { get; } = targetConnections;

        public Func<IEnumerable<Measurement<int>>> Listeners { get; } = listeners;
    }

    public void Connected(string app, string target, TimeSpan elapsed)
    {
        if (_connectDuration.Enabled)
        {
            _connectDuration.Record(elapsed.TotalSeconds, new TagList { { "app", app }, { "target", target } });
        }
    }

    public void Rollout(string result) => _rollouts.Add(1, new KeyValuePair<string, object?>("result", result));

    public void Dispose() => _meter.Dispose();

    /// <summary>The values of the <c>reason</c> tag of fproxy.connections.failed.</summary>
    internal static class FailureReason
    {
        public const string NoTarget = "no_target";
        public const string Timeout = "timeout";
        public const string Refused = "refused";
        public const string Reset = "reset";
        public const string Limit = "limit";

        /// <summary>The client's source already had MaxConnectionsPerSource open.</summary>
        public const string SourceLimit = "source_limit";

        /// <summary>The app already held MaxPeekingConnections waiting for a header or ClientHello.</summary>
        public const string PeekLimit = "peek_limit";

        /// <summary>The client's bytes were not a valid PROXY protocol header, or it closed before finishing one.</summary>
        public const string ProxyMalformed = "proxy_malformed";

        /// <summary>No complete PROXY protocol header within ProxyProtocolTimeout.</summary>
        public const string ProxyTimeout = "proxy_timeout";

        /// <summary>A PROXY protocol header was expected from a source outside TrustedProxies.</summary>
        public const string ProxyUntrusted = "proxy_untrusted";
    }
}

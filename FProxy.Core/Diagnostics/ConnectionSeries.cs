using System.Diagnostics.Metrics;

namespace FProxy.Diagnostics;

/// <summary>
/// The <see cref="ConnectionCounters"/> of every (app, port) the daemon serves, and of those it
/// served until a reload removed them while their connections drain. The observable connection
/// instruments of <see cref="ProxyMetrics"/> read them here at collection time. A pair that left
/// the config is forgotten once its last connection has closed, so its series leave the exported
/// metrics instead of staying at their last value until the process ends.
/// </summary>
/// <remarks>
/// Listeners look their counters up once per route change, never per connection: the lock here
/// is taken by reloads and collections only.
/// </remarks>
internal sealed class ConnectionSeries
{
    private readonly Lock _sync = new();
    private readonly Dictionary<(string App, int Port), Entry> _entries = [];

    /// <summary>The counters of <paramref name="app"/> on <paramref name="port"/>, created when new; the pair counts as configured.</summary>
    public ConnectionCounters For(string app, int port)
    {
        lock (_sync)
        {
            if (!_entries.TryGetValue((app, port), out var entry))
            {
                entry = new Entry(new ConnectionCounters(app, port));
                _entries.Add((app, port), entry);
            }

            entry.Configured = true;
            return entry.Counters;
        }
    }

    /// <summary>
    /// After a reload: the pairs in <paramref name="configured"/> stay; every other one is retired,
    /// and forgotten at a collection once it has no open connection.
    /// </summary>
    public void Retain(IReadOnlySet<(string App, int Port)> configured)
    {
        lock (_sync)
        {
            foreach (var (key, entry) in _entries)
            {
                entry.Configured = configured.Contains(key);
            }
        }
    }

    /// <summary>Pairs known now (configured or still draining), for tests.</summary>
    internal int Count
    {
        get
        {
            lock (_sync)
            {
                return _entries.Count;
            }
        }
    }

    /// <summary>Accepted connections, one measurement per (app, port).</summary>
    public IEnumerable<Measurement<long>> ObserveAccepted() => Observe(static c => c.ReadAccepted());

    /// <summary>Open connections, one measurement per (app, port).</summary>
    public IEnumerable<Measurement<long>> ObserveActive() => Observe(static c => c.ReadActive());

    /// <summary>Only reasons that occurred: a failure series appears with its first failure, as it did when it was recorded.</summary>
    public IEnumerable<Measurement<long>> ObserveFailed()
    {
        var measurements = new List<Measurement<long>>();
        foreach (var c in Snapshot())
        {
            for (var i = 0; i < ConnectionCounters.FailureReasons.Length; i++)
            {
                if (c.ReadFailed(i) is var failed and > 0)
                {
                    measurements.Add(new Measurement<long>(failed, new("app", c.App), new("port", c.PortTag), new("reason", ConnectionCounters.FailureReasons[i])));
                }
            }
        }

        return measurements;
    }

    private Measurement<long>[] Observe(Func<ConnectionCounters, long> read)
    {
        var counters = Snapshot();
        var measurements = new Measurement<long>[counters.Length];
        for (var i = 0; i < counters.Length; i++)
        {
            var c = counters[i];
            measurements[i] = new Measurement<long>(read(c), new("app", c.App), new("port", c.PortTag));
        }

        return measurements;
    }

    /// <summary>
    /// The counters to report, after forgetting retired pairs with no open connection. A connection
    /// still racing into a retired pair as it is forgotten (a straggler accepted just before its
    /// port moved to another app) goes uncounted: its counters are no longer reported.
    /// </summary>
    private ConnectionCounters[] Snapshot()
    {
        lock (_sync)
        {
            List<(string, int)>? forgotten = null;
            foreach (var (key, entry) in _entries)
            {
                if (!entry.Configured && entry.Counters.ReadActive() == 0)
                {
                    (forgotten ??= []).Add(key);
                }
            }

            foreach (var key in forgotten ?? [])
            {
                _entries.Remove(key);
            }

            return [.. _entries.Values.Select(static e => e.Counters)];
        }
    }

    private sealed class Entry(ConnectionCounters counters)
    {
        public ConnectionCounters Counters { get; } = counters;

        public bool Configured { get; set; }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// Listens to the "FProxy" meter and keeps every measurement with its tags, so tests can sum what
/// one app (a name unique to the test) recorded, whatever other daemons in the process do.
/// </summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentQueue<(string Instrument, double Value, Dictionary<string, object?> Tags)> _measurements = new();

    public MetricRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "FProxy")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<int>((i, v, t, _) => Add(i, v, t));
        _listener.SetMeasurementEventCallback<double>((i, v, t, _) => Add(i, v, t));
        _listener.Start();
    }

    /// <summary>Sum of every measurement of <paramref name="instrument"/> whose tags include all of <paramref name="tags"/>.</summary>
    public double Sum(string instrument, params (string Key, object Value)[] tags) =>
        Matching(instrument, tags).Sum(static m => m.Value);

    public int Count(string instrument, params (string Key, object Value)[] tags) => Matching(instrument, tags).Count();

    /// <summary>Collects the observable instruments now and returns the sum of the values matching the tags (0 when none).</summary>
    public double Observe(string instrument, params (string Key, object Value)[] tags) =>
        ObserveSeries(instrument, tags).Sum(static m => m.Value);

    /// <summary>Collects the observable instruments now and returns each measurement of <paramref name="instrument"/> matching the tags: the series it reports.</summary>
    public IReadOnlyList<(double Value, Dictionary<string, object?> Tags)> ObserveSeries(string instrument, params (string Key, object Value)[] tags)
    {
        var before = _measurements.Count;
        _listener.RecordObservableInstruments();
        return [.. _measurements.Skip(before)
            .Where(m => m.Instrument == instrument && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value)))
            .Select(static m => (m.Value, m.Tags))];
    }

    public void Dispose() => _listener.Dispose();

    private IEnumerable<(string Instrument, double Value, Dictionary<string, object?> Tags)> Matching(string instrument, (string Key, object Value)[] tags) =>
        _measurements.Where(m => m.Instrument == instrument && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && Equals(v, t.Value)));

    private void Add(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var copy = new Dictionary<string, object?>();
        foreach (var tag in tags)
        {
            copy[tag.Key] = tag.Value;
        }

        _measurements.Enqueue((instrument.Name, value, copy));
    }
}

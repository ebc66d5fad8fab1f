using FProxy.Diagnostics;

namespace FProxy.Tests.Diagnostics;

public sealed class ConnectionSeriesTests
{
    [Test]
    public void For_SameAppAndPort_SameCounters()
    {
        var series = new ConnectionSeries();

        var first = series.For("a", 1);

        Assert.That(series.For("a", 1), Is.SameAs(first));
        Assert.That(series.For("a", 2), Is.Not.SameAs(first));
        Assert.That(series.For("b", 1), Is.Not.SameAs(first));
    }

    [Test]
    public void Observe_RetiredPairWithoutConnections_IsForgotten()
    {
        var series = new ConnectionSeries();
        foreach (var counters in new[] { series.For("a", 1), series.For("b", 2) })
        {
            counters.Accepted();
            counters.Closed();
        }

        series.Retain(new HashSet<(string, int)> { ("a", 1) });

        Assert.That(Apps(series.ObserveAccepted()), Is.EqualTo(new[] { "a" }));
        Assert.That(series.Count, Is.EqualTo(1));
    }

    [Test]
    public void Observe_RetiredPairWithOpenConnection_ReportedUntilItCloses()
    {
        var series = new ConnectionSeries();
        var draining = series.For("b", 2);
        draining.Accepted();

        series.Retain(new HashSet<(string, int)>());

        Assert.That(series.ObserveActive().Single().Value, Is.EqualTo(1), "a draining connection is still counted");
        draining.Failed(ProxyMetrics.FailureReason.Reset);
        draining.Closed();
        Assert.That(series.ObserveActive(), Is.Empty);
        Assert.That(series.ObserveFailed(), Is.Empty);
        Assert.That(series.ObserveAccepted(), Is.Empty);
    }

    [Test]
    public void For_RetiredPairAddedBackBeforeCollection_KeepsItsCounts()
    {
        // A reload removes a port and the next puts it back: one series, still monotonic.
        var series = new ConnectionSeries();
        series.For("a", 1).Accepted();
        series.Retain(new HashSet<(string, int)>());

        series.For("a", 1).Accepted();

        Assert.That(series.ObserveAccepted().Single().Value, Is.EqualTo(2));
    }

    [Test]
    public void ObserveFailed_OnlyReasonsThatOccurred_TaggedByAppPortAndReason()
    {
        var series = new ConnectionSeries();
        var counters = series.For("a", 5001);
        counters.Failed(ProxyMetrics.FailureReason.Refused);
        counters.Failed(ProxyMetrics.FailureReason.Refused);

        var failed = series.ObserveFailed().Single();

        Assert.That(failed.Value, Is.EqualTo(2));
        Assert.That(failed.Tags.ToArray(), Is.EqualTo(new KeyValuePair<string, object?>[] { new("app", "a"), new("port", 5001), new("reason", "refused") }));
    }

    private static string?[] Apps(IEnumerable<System.Diagnostics.Metrics.Measurement<long>> measurements) =>
        [.. measurements.Select(static m => m.Tags.ToArray().Single(static t => t.Key == "app").Value as string)];
}

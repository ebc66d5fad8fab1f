using FProxy.Host.Admin;
using FProxy.Tests.Infrastructure;
using Microsoft.Extensions.Time.Testing;

namespace FProxy.Tests.Host;

/// <summary>The admin endpoint's connection cap as accounting, without sockets: who gives way, who is refused, what is logged.</summary>
public sealed class AdminConnectionLimitTests
{
    // NUnit runs every test of a class on one instance: each test gets fresh ones.
    private FakeTimeProvider _time = null!;
    private TestLoggerFactory _logs = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new FakeTimeProvider();
        _logs = new TestLoggerFactory();
    }

    [TearDown]
    public void TearDown() => _logs.Dispose();

    [Test]
    public void TryOpen_AtTheCap_ClosesTheConnectionIdleLongestAndTakesTheNewOne()
    {
        var limit = new AdminConnectionLimit(3, _logs.CreateLogger("FProxy.Admin"), _time);
        var aborted = new List<string>();
        var first = limit.TryOpen(() => aborted.Add("first"))!;
        var second = limit.TryOpen(() => aborted.Add("second"))!;
        var third = limit.TryOpen(() => aborted.Add("third"))!;

        // A request on the first makes it the newest idle one once it ends.
        limit.BeginRequest(first);
        limit.EndRequest(first);
        var fourth = limit.TryOpen(() => aborted.Add("fourth"));

        Assert.That(fourth, Is.Not.Null);
        Assert.That(aborted, Is.EqualTo(new[] { "second" }), "idle longest: the second never had a request");
        Assert.That(limit.Open, Is.EqualTo(3));
        limit.Close(second);
        Assert.That(limit.Open, Is.EqualTo(3), "a connection closed to make room was uncounted then, not again when it goes");
        limit.Close(third);
        Assert.That(limit.Open, Is.EqualTo(2));
    }

    [Test]
    public void TryOpen_EveryConnectionBusy_RefusesAndClosesNone()
    {
        var limit = new AdminConnectionLimit(2, _logs.CreateLogger("FProxy.Admin"), _time);
        var aborted = 0;
        var busy = new[] { limit.TryOpen(() => aborted++)!, limit.TryOpen(() => aborted++)! };
        foreach (var connection in busy)
        {
            limit.BeginRequest(connection);
        }

        Assert.That(limit.TryOpen(() => aborted++), Is.Null);
        Assert.That(aborted, Is.Zero, "a busy connection is never closed to make room");

        limit.EndRequest(busy[1]);
        Assert.That(limit.TryOpen(() => aborted++), Is.Not.Null, "idle again, it gives way");
        Assert.That(aborted, Is.EqualTo(1));
    }

    [Test]
    public void TryOpen_ManyEvictionsAndRefusals_LoggedOncePerIntervalWithTheCount()
    {
        var limit = new AdminConnectionLimit(1, _logs.CreateLogger("FProxy.Admin"), _time);
        for (var i = 0; i < 100; i++)
        {
            limit.TryOpen(static () => { });
        }

        var busy = limit.TryOpen(static () => { })!;
        limit.BeginRequest(busy);
        for (var i = 0; i < 50; i++)
        {
            Assert.That(limit.TryOpen(static () => { }), Is.Null);
        }

        Assert.That(_logs.Count(1410), Is.EqualTo(1), "evictions: one line for the burst");
        Assert.That(_logs.Count(1411), Is.EqualTo(1), "refusals: one line for the burst");

        _time.Advance(AdminLimits.LogInterval);
        Assert.That(limit.TryOpen(static () => { }), Is.Null);
        Assert.That(_logs.Messages(1411).Last(), Does.Contain("(49 more since the last report)"));
        Assert.That(_logs.Count(1410), Is.EqualTo(1));
    }
}

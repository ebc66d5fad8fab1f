using FProxy.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace FProxy.Tests.Diagnostics;

public sealed class LogLimiterTests
{
    [Test]
    public void ShouldLog_BurstWithinInterval_LogsFirstThenReportsSuppressedCount()
    {
        var time = new FakeTimeProvider();
        var limiter = new LogLimiter(time, TimeSpan.FromSeconds(5));
        Assert.That(limiter.ShouldLog(out var first), Is.True);
        Assert.That(first, Is.Zero);
        Assert.That(Enumerable.Range(0, 9).Count(_ => limiter.ShouldLog(out _)), Is.Zero);

        time.Advance(TimeSpan.FromSeconds(5));
        Assert.That(limiter.ShouldLog(out var suppressed), Is.True);
        Assert.That(suppressed, Is.EqualTo(9));
    }
}

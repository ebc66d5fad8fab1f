using FProxy.Configuration;

namespace FProxy.Tests.Configuration;

public sealed class DurationTests
{
    [TestCase("250ms", 250)]
    [TestCase("1ms", 1)]
    [TestCase("5s", 5_000)]
    [TestCase("90s", 90_000)]
    [TestCase("1m", 60_000)]
    [TestCase("2h", 7_200_000)]
    [TestCase("0010s", 10_000)]
    public void TryParse_ValidDuration_GivesValue(string text, long milliseconds)
    {
        Assert.That(Duration.TryParse(text, out var value), Is.True);
        Assert.That(value, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [TestCase("")]
    [TestCase(null)]
    [TestCase("0")]
    [TestCase("0s")]
    [TestCase("5")]
    [TestCase("1.5s")]
    [TestCase("-1s")]
    [TestCase("+1s")]
    [TestCase(" 5s")]
    [TestCase("5s ")]
    [TestCase("5 s")]
    [TestCase("5S")]
    [TestCase("5sec")]
    [TestCase("1h30m")]
    [TestCase("5d")]
    [TestCase("s")]
    [TestCase("99999999999999999999h")]
    [TestCase("9999999999999h")]
    public void TryParse_Malformed_ReturnsFalse(string? text)
    {
        Assert.That(Duration.TryParse(text, out _), Is.False);
    }

    [TestCase(250, "250ms")]
    [TestCase(1_000, "1s")]
    [TestCase(5_000, "5s")]
    [TestCase(90_000, "90s")]
    [TestCase(60_000, "1m")]
    [TestCase(7_200_000, "2h")]
    [TestCase(5_400_000, "90m")]
    [TestCase(1_500, "1500ms")]
    [TestCase(0, "0s")]
    [TestCase(-5_000, "-5s")]
    public void Format_Value_GivesShortestForm(long milliseconds, string expected)
    {
        Assert.That(Duration.Format(TimeSpan.FromMilliseconds(milliseconds)), Is.EqualTo(expected));
    }

    [TestCase("250ms")]
    [TestCase("5s")]
    [TestCase("1m")]
    [TestCase("2h")]
    public void Format_ParsedShortestForm_RoundTrips(string text)
    {
        Assert.That(Duration.TryParse(text, out var value), Is.True);
        Assert.That(Duration.Format(value), Is.EqualTo(text));
    }

    [Test]
    public void Format_SubMillisecond_StillReadable()
    {
        Assert.That(Duration.Format(TimeSpan.FromTicks(5_000)), Is.EqualTo("0.5ms"));
    }
}

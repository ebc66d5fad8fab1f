using FProxy.Configuration;

namespace FProxy.Tests.Configuration;

public sealed class SniPatternTests
{
    [TestCase("api.example.com", "api.example.com")]
    [TestCase("api.example.com", "API.Example.com")]
    [TestCase("*.example.com", "a.example.com")]
    [TestCase("*.example.com", "a.b.example.com")]
    [TestCase("*.Example.COM", "a.example.com")]
    public void Matches_MatchingName_True(string pattern, string serverName) =>
        Assert.That(SniPattern.Matches(pattern, serverName), Is.True);

    [TestCase("api.example.com", "web.example.com")]
    [TestCase("api.example.com", "api.example.com.evil.net")]
    [TestCase("*.example.com", "example.com")]
    [TestCase("*.example.com", ".example.com")]
    [TestCase("*.example.com", "aexample.com")]
    [TestCase("*.example.com", "a.example.org")]
    [TestCase("*.example.com", "a.example.com.evil.net")]
    public void Matches_OtherName_False(string pattern, string serverName) =>
        Assert.That(SniPattern.Matches(pattern, serverName), Is.False);

    [TestCase("example.com")]
    [TestCase("localhost")]
    [TestCase("a-b.c1.example.com")]
    [TestCase("*.example.com")]
    [TestCase("*.com")]
    [TestCase("API.Example.COM")]
    public void IsValid_HostNameOrWildcard_True(string pattern)
    {
        Assert.Multiple(() =>
        {
            Assert.That(SniPattern.IsValid(pattern, out var error), Is.True);
            Assert.That(error, Is.Null);
        });
    }

    [TestCase("")]
    [TestCase("*")]
    [TestCase("*.")]
    [TestCase("*x.com")]
    [TestCase("a.*.com")]
    [TestCase("**.example.com")]
    [TestCase("example..com")]
    [TestCase(".example.com")]
    [TestCase("example.com.")]
    [TestCase("-a.example.com")]
    [TestCase("a-.example.com")]
    [TestCase("exa mple.com")]
    [TestCase("exämple.com")]
    [TestCase("10.0.0.1")]
    [TestCase("*.10.0.0.1")]
    public void IsValid_NotAHostName_FalseWithError(string pattern)
    {
        Assert.Multiple(() =>
        {
            Assert.That(SniPattern.IsValid(pattern, out var error), Is.False);
            Assert.That(error, Does.StartWith($"\"{pattern}\" is not a valid SNI pattern"));
        });
    }

    [Test]
    public void IsValid_StarWithoutDot_ErrorNamesTheForms()
    {
        SniPattern.IsValid("*x.com", out var error);
        Assert.That(error, Is.EqualTo("\"*x.com\" is not a valid SNI pattern (expected a host name or *.example.com)"));
    }

    [Test]
    public void IsValid_LabelOver63Characters_False() =>
        Assert.That(SniPattern.IsValid(new string('a', 64) + ".com", out _), Is.False);

    [Test]
    public void IsValid_NameOver253Characters_False() =>
        Assert.That(SniPattern.IsValid(string.Join('.', Enumerable.Repeat(new string('a', 63), 4)), out _), Is.False);
}

extern alias FTestTool;

using FTestTool::FProxy.FTest.Net;

namespace FProxy.Tests.FTest;

public sealed class AddressTests
{
    [TestCase("localhost:80", "localhost", 80)]
    [TestCase("backend-1.example.com:9001", "backend-1.example.com", 9001)]
    [TestCase("1.2.3.4:65535", "1.2.3.4", 65535)]
    [TestCase("[::1]:5001", "::1", 5001)]
    [TestCase("[fd00::53]:53", "fd00::53", 53)]
    public void TryParse_AcceptedForm_ParsesHostAndPort(string text, string host, int port)
    {
        Assert.That(Address.TryParse(text, out var address, out var problem), Is.True, problem);
        Assert.That((address!.Host, address.Port), Is.EqualTo((host, port)));
        Assert.That(address.ToString(), Is.EqualTo(text));
    }

    [TestCase("x")]
    [TestCase("")]
    [TestCase(":80")]
    [TestCase("host:")]
    [TestCase("host:0")]
    [TestCase("host:65536")]
    [TestCase("host:+80")]
    [TestCase("1.2.3:80")]
    [TestCase("127.1:80")]
    [TestCase("::1:80")]
    [TestCase("[::1]80")]
    [TestCase("[1.2.3.4]:80")]
    [TestCase("a b:80")]
    [TestCase("-bad-:80")]
    public void TryParse_Garbage_ExplainsTheAcceptedForms(string text)
    {
        Assert.That(Address.TryParse(text, out _, out var problem), Is.False);
        Assert.That(problem, Does.StartWith($"invalid address \"{text}\"").And.Contain("expected host:port, 1.2.3.4:port or [::1]:port"));
    }

    [TestCase("250ms", 250)]
    [TestCase("5s", 5000)]
    [TestCase("1m", 60_000)]
    public void DurationsTryParse_Valid_Parses(string text, int milliseconds)
    {
        Assert.That(Durations.TryParse(text, out var value), Is.True);
        Assert.That(value, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
        Assert.That(Durations.Format(value), Is.EqualTo(text));
    }

    [TestCase("5")]
    [TestCase("0s")]
    [TestCase("-5s")]
    [TestCase("1.5s")]
    [TestCase("5 s")]
    public void DurationsTryParse_Invalid_Rejects(string text) => Assert.That(Durations.TryParse(text, out _), Is.False);
}

using System.Net;
using FProxy.Dns;

namespace FProxy.Tests.Dns;

public sealed class DnsOptionsTests
{
    [TestCase("1.2.3.4", "1.2.3.4:53")]
    [TestCase("1.2.3.4:5353", "1.2.3.4:5353")]
    [TestCase("::1", "[::1]:53")]
    [TestCase("[::1]", "[::1]:53")]
    [TestCase("[::1]:5353", "[::1]:5353")]
    [TestCase("fd00::53", "[fd00::53]:53")]
    [TestCase(" 10.0.0.1 ", "10.0.0.1:53")]
    public void ParseServers_ValidEntry_ParsesAddressAndPort(string value, string expected)
    {
        IReadOnlyList<IPEndPoint> servers = DnsOptions.ParseServers(value);

        Assert.That(servers, Has.Count.EqualTo(1));
        Assert.That(servers[0].ToString(), Is.EqualTo(expected));
    }

    [Test]
    public void ParseServers_SeveralEntries_KeepsOrder()
    {
        IReadOnlyList<IPEndPoint> servers = DnsOptions.ParseServers("10.0.0.1, [::1]:5353,127.0.0.1:54");

        Assert.That(servers.Select(s => s.ToString()), Is.EqualTo(new[] { "10.0.0.1:53", "[::1]:5353", "127.0.0.1:54" }));
    }

    [TestCase("")]
    [TestCase("   ")]
    [TestCase(null)]
    public void ParseServers_Blank_IsEmpty(string? value)
    {
        Assert.That(DnsOptions.ParseServers(value), Is.Empty);
    }

    [TestCase("abc", "FPROXY_DNS_SERVERS: \"abc\" is not an IP address or IP:port.")]
    [TestCase("1.2.3.4,dns.google", "FPROXY_DNS_SERVERS: \"dns.google\" is not an IP address or IP:port.")]
    [TestCase("1", "FPROXY_DNS_SERVERS: \"1\" is not an IP address or IP:port.")]
    [TestCase("1.2.3", "FPROXY_DNS_SERVERS: \"1.2.3\" is not an IP address or IP:port.")]
    [TestCase("[1.2.3.4]:53", "FPROXY_DNS_SERVERS: \"[1.2.3.4]:53\" is not an IP address or IP:port.")]
    [TestCase("[::1", "FPROXY_DNS_SERVERS: \"[::1\" is not an IP address or IP:port.")]
    [TestCase("[::1]53", "FPROXY_DNS_SERVERS: \"[::1]53\" is not an IP address or IP:port.")]
    [TestCase("1.2.3.4:0", "FPROXY_DNS_SERVERS: \"1.2.3.4:0\" has an invalid port (expected 1-65535).")]
    [TestCase("1.2.3.4:65536", "FPROXY_DNS_SERVERS: \"1.2.3.4:65536\" has an invalid port (expected 1-65535).")]
    [TestCase("1.2.3.4:x", "FPROXY_DNS_SERVERS: \"1.2.3.4:x\" has an invalid port (expected 1-65535).")]
    [TestCase("[::1]:-1", "FPROXY_DNS_SERVERS: \"[::1]:-1\" has an invalid port (expected 1-65535).")]
    [TestCase("1.2.3.4,,5.6.7.8", "FPROXY_DNS_SERVERS: entry 2 of \"1.2.3.4,,5.6.7.8\" is empty.")]
    public void ParseServers_BadEntry_ThrowsNamingIt(string value, string message)
    {
        Assert.That(() => DnsOptions.ParseServers(value), Throws.TypeOf<FormatException>().With.Message.EqualTo(message));
    }

    [Test]
    public void Validate_Defaults_Passes()
    {
        var options = new DnsOptions();

        Assert.That(options.Validate, Throws.Nothing);
        Assert.That(options.Servers, Is.Empty);
        Assert.That(options.HostsFilePath, Is.EqualTo("/etc/hosts"));
        Assert.That(options.ResolvConfPath, Is.EqualTo("/etc/resolv.conf"));
        Assert.That(options.ResolverEnvironment, Is.SameAs(ResolverEnvironment.Process));
    }

    [Test]
    public void Validate_NullResolvConfPath_Throws()
    {
        var options = new DnsOptions { ResolvConfPath = null! };

        Assert.That(options.Validate, Throws.InvalidOperationException.With.Message.Contains("DnsOptions.ResolvConfPath"));
    }

    [TestCase(nameof(DnsOptions.QueryTimeout), 0)]
    [TestCase(nameof(DnsOptions.MinRefresh), -1)]
    [TestCase(nameof(DnsOptions.MaxRefresh), 0)]
    [TestCase(nameof(DnsOptions.FailureRetry), 0)]
    public void Validate_NonPositiveInterval_ThrowsNamingIt(string property, int seconds)
    {
        var options = new DnsOptions();
        typeof(DnsOptions).GetProperty(property)!.SetValue(options, TimeSpan.FromSeconds(seconds));

        Assert.That(options.Validate, Throws.InvalidOperationException.With.Message.Contains($"DnsOptions.{property} must be positive"));
    }

    [Test]
    public void Validate_MinRefreshAboveMaxRefresh_Throws()
    {
        var options = new DnsOptions { MinRefresh = TimeSpan.FromMinutes(10) };

        Assert.That(options.Validate, Throws.InvalidOperationException.With.Message.Contains("MinRefresh"));
    }
}

using System.Net;
using System.Net.Sockets;
using FProxy.Configuration;

namespace FProxy.Tests.Configuration;

public sealed class CidrParserTests
{
    private static IPNetwork Parse(string text)
    {
        Assert.That(CidrParser.TryParse(text, out var range, out var error), Is.True, error);
        return range;
    }

    [TestCase("10.0.0.0/8", "10.0.0.0/8", AddressFamily.InterNetwork, 8)]
    [TestCase("192.168.1.7/32", "192.168.1.7/32", AddressFamily.InterNetwork, 32)]
    [TestCase("0.0.0.0/0", "0.0.0.0/0", AddressFamily.InterNetwork, 0)]
    [TestCase("::1/128", "::1/128", AddressFamily.InterNetworkV6, 128)]
    [TestCase("fd00::/8", "fd00::/8", AddressFamily.InterNetworkV6, 8)]
    [TestCase("::/0", "::/0", AddressFamily.InterNetworkV6, 0)]
    [TestCase("10.1.2.3", "10.1.2.3/32", AddressFamily.InterNetwork, 32)]
    [TestCase("2001:db8::1", "2001:db8::1/128", AddressFamily.InterNetworkV6, 128)]
    [TestCase("2001:DB8:0::/32", "2001:db8::/32", AddressFamily.InterNetworkV6, 32)]
    public void TryParse_ValidRange_ParsesToCanonicalForm(string text, string canonical, AddressFamily family, int prefix)
    {
        var range = Parse(text);
        Assert.Multiple(() =>
        {
            Assert.That(range.ToString(), Is.EqualTo(canonical));
            Assert.That(range.BaseAddress.AddressFamily, Is.EqualTo(family));
            Assert.That(range.PrefixLength, Is.EqualTo(prefix));
        });
    }

    [TestCase("10.0.0.0/33")]
    [TestCase("10.0.0.0/-1")]
    [TestCase("10.0.0.0/")]
    [TestCase("10.0.0.0/8/8")]
    [TestCase("10.0.0.0/ 8")]
    [TestCase("fd00::/129")]
    public void TryParse_BadPrefix_FalseWithError(string text)
    {
        Assert.Multiple(() =>
        {
            Assert.That(CidrParser.TryParse(text, out _, out var error), Is.False);
            Assert.That(error, Does.StartWith($"\"{text}\" has an invalid prefix length"));
        });
    }

    [TestCase("")]
    [TestCase("/8")]
    [TestCase("garbage")]
    [TestCase("10/8")]
    [TestCase("10.1/16")]
    [TestCase("256.0.0.0/8")]
    [TestCase("10.0.0.0.0/8")]
    [TestCase("0x0a.0.0.0/8")]
    [TestCase("010.0.0.0/8")]
    [TestCase("fe80::1%eth0/128")]
    [TestCase("example.com/24")]
    public void TryParse_NotAnAddress_FalseWithError(string text)
    {
        Assert.Multiple(() =>
        {
            Assert.That(CidrParser.TryParse(text, out _, out var error), Is.False);
            Assert.That(error, Does.StartWith($"\"{text}\" is not a valid CIDR range"));
        });
    }

    [Test]
    public void TryParse_Null_FalseWithError()
    {
        Assert.Multiple(() =>
        {
            Assert.That(CidrParser.TryParse(null, out _, out var error), Is.False);
            Assert.That(error, Is.Not.Null);
        });
    }

    [TestCase("10.0.0.1/8", "10.0.0.0/8")]
    [TestCase("192.168.1.7/24", "192.168.1.0/24")]
    [TestCase("fd00::1/8", "fd00::/8")]
    public void TryParse_HostBitsSet_ErrorNamesTheNetwork(string text, string network)
    {
        Assert.Multiple(() =>
        {
            Assert.That(CidrParser.TryParse(text, out _, out var error), Is.False);
            Assert.That(error, Is.EqualTo($"\"{text}\" has host bits set: the network address is {network}"));
        });
    }

    [TestCase("10.0.0.0/8", "10.0.0.0")]
    [TestCase("10.0.0.0/8", "10.255.255.255")]
    [TestCase("10.0.0.0/8", "10.1.2.3")]
    [TestCase("192.168.1.7/32", "192.168.1.7")]
    [TestCase("172.16.0.0/12", "172.31.0.1")]
    [TestCase("0.0.0.0/0", "203.0.113.9")]
    [TestCase("10.0.0.0/8", "::ffff:10.1.2.3")]
    [TestCase("192.168.1.7", "::ffff:192.168.1.7")]
    [TestCase("::1/128", "::1")]
    [TestCase("fd00::/8", "fd12:3456::1")]
    [TestCase("2001:db8::/32", "2001:db8:ffff::1")]
    [TestCase("::/0", "2001:db8::1")]
    public void Contains_AddressInRange_True(string range, string address) =>
        Assert.That(Parse(range).Contains(IPAddress.Parse(address)), Is.True);

    [TestCase("10.0.0.0/8", "11.0.0.0")]
    [TestCase("10.0.0.0/8", "9.255.255.255")]
    [TestCase("192.168.1.7/32", "192.168.1.8")]
    [TestCase("172.16.0.0/12", "172.32.0.1")]
    [TestCase("10.0.0.0/8", "::ffff:11.1.2.3")]
    [TestCase("10.0.0.0/8", "::10.1.2.3")]
    [TestCase("10.0.0.0/8", "fd00::a01:203")]
    [TestCase("0.0.0.0/0", "::1")]
    [TestCase("::1/128", "::2")]
    [TestCase("fd00::/8", "fe00::1")]
    [TestCase("::/0", "10.1.2.3")]
    [TestCase("::ffff:0:0/96", "10.1.2.3")]
    [TestCase("::1/128", "127.0.0.1")]
    public void Contains_AddressOutsideRange_False(string range, string address) =>
        Assert.That(Parse(range).Contains(IPAddress.Parse(address)), Is.False);

    [Test]
    public void Contains_ScopedLinkLocal_MatchesByAddress() =>
        Assert.That(Parse("fe80::/10").Contains(IPAddress.Parse("fe80::1%2")), Is.True);

    [Test]
    public void Contains_V4AndV6_AllocatesNothing()
    {
        var v4 = Parse("10.0.0.0/8");
        var v6 = Parse("fd00::/8");
        var a4 = IPAddress.Parse("10.1.2.3");
        var mapped = IPAddress.Parse("::ffff:10.1.2.3");
        var a6 = IPAddress.Parse("fd00::1");
        Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);

        void Run()
        {
            for (var i = 0; i < 100; i++)
            {
                v4.Contains(a4);
                v4.Contains(mapped);
                v4.Contains(a6);
                v6.Contains(a6);
                v6.Contains(a4);
            }
        }
    }

    [Test]
    public void Equals_SameNetworkWrittenTwoWays_Equal() =>
        Assert.That(Parse(" 10.0.0.0/8 "), Is.EqualTo(Parse("10.0.0.0/8")));

    [Test]
    public void Equals_DifferentPrefix_NotEqual() =>
        Assert.That(Parse("10.0.0.0/16"), Is.Not.EqualTo(Parse("10.0.0.0/8")));
}

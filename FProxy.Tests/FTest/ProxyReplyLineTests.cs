extern alias FTestTool;

using System.Net;
using System.Text;
using FProxy.ProxyProtocol;
using FTestTool::FProxy.FTest.Net;

namespace FProxy.Tests.FTest;

/// <summary>The "PROXY ..." line a --proxy-protocol echo answers with: its format, and finding it at the start of a reply.</summary>
internal sealed class ProxyReplyLineTests
{
    [TestCase("192.0.2.1:5000", "127.0.0.1:9001", "PROXY 192.0.2.1:5000 -> 127.0.0.1:9001\n")]
    [TestCase("[2001:db8::1]:5555", "[::1]:9000", "PROXY [2001:db8::1]:5555 -> [::1]:9000\n")]
    public void Format_Addresses_BracketsIPv6(string source, string destination, string line)
    {
        var header = new ProxyHeader(1, ProxyCommand.Proxy, ProxyAddresses.From(IPEndPoint.Parse(source), IPEndPoint.Parse(destination)));

        Assert.That(ProxyReplyLine.Format(header), Is.EqualTo(line));
    }

    [TestCase(1, ProxyCommand.Local)]
    [TestCase(2, ProxyCommand.Local)]
    [TestCase(2, ProxyCommand.Proxy)]
    public void Format_NoAddresses_IsLocal(int version, ProxyCommand command) =>
        Assert.That(ProxyReplyLine.Format(new ProxyHeader(version, command, null)), Is.EqualTo("PROXY LOCAL\n"));

    [TestCase("PROXY LOCAL\nping", "ping", 12)]
    [TestCase("PROXY 1.2.3.4:5 -> 6.7.8.9:10\nping", "ping", 30)]
    [TestCase("PROXY LOCAL\nPRO", "PRO", 12)]
    [TestCase("ping", "ping", 0)]
    [TestCase("p", "ping", 0)]
    [TestCase("PROXY LOCAL\n", "PROXY LOCAL\n", 0)]
    [TestCase("PRO", "PRO", 0)]
    [TestCase("PROMPT", "ping", 0)]
    [TestCase("PRO", "ping", ProxyReplyLine.NeedMoreData)]
    [TestCase("PROXY LOC", "ping", ProxyReplyLine.NeedMoreData)]
    [TestCase("P", "ping", ProxyReplyLine.NeedMoreData)]
    public void Find_StartOfAReply_LineLengthNoneOrNeedMore(string received, string expected, int length) =>
        Assert.That(ProxyReplyLine.Find(Encoding.ASCII.GetBytes(received), Encoding.ASCII.GetBytes(expected)), Is.EqualTo(length));

    [Test]
    public void Find_PROXYWithNoLineEndWithinMaxLength_IsNoLine()
    {
        var received = Encoding.ASCII.GetBytes("PROXY " + new string('x', ProxyReplyLine.MaxLength));

        Assert.That(ProxyReplyLine.Find(received, "ping"u8), Is.Zero);
        Assert.That(ProxyReplyLine.Find(received[..(ProxyReplyLine.MaxLength - 1)], "ping"u8), Is.EqualTo(ProxyReplyLine.NeedMoreData));
    }
}

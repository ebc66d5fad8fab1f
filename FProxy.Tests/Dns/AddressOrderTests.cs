using System.Net;
using FProxy.Dns;

namespace FProxy.Tests.Dns;

public sealed class AddressOrderTests
{
    [TestCase("1.1.1.1,2.2.2.2,::1,::2", "::1,1.1.1.1,::2,2.2.2.2")]
    [TestCase("1.1.1.1,2.2.2.2,3.3.3.3,::1", "::1,1.1.1.1,2.2.2.2,3.3.3.3")]
    [TestCase("::1,::2,::3,1.1.1.1", "::1,1.1.1.1,::2,::3")]
    [TestCase("1.1.1.1,1.1.1.1,::1,::1", "::1,1.1.1.1")]
    [TestCase("1.1.1.1", "1.1.1.1")]
    public void Interleave_MixedFamilies_StartsWithIPv6AndAlternates(string input, string expected)
    {
        IPAddress[] ordered = AddressOrder.Interleave(input.Split(',').Select(IPAddress.Parse));

        Assert.That(string.Join(",", ordered.Select(a => a.ToString())), Is.EqualTo(expected));
    }

    [Test]
    public void Interleave_Nothing_IsEmpty()
    {
        Assert.That(AddressOrder.Interleave([]), Is.Empty);
    }
}

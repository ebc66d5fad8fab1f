using System.Net;
using DnsClient;

namespace FProxy.Tests.Infrastructure;

[CancelAfter(10_000)]
public sealed class LoopbackDnsServerTests
{
    [TestCase(false)]
    [TestCase(true)]
    public async Task Query_SetName_AnswersEachFamilyOverUdpAndTcp(bool tcpOnly, CancellationToken cancellationToken)
    {
        await using var dns = new LoopbackDnsServer();
        dns.Set("svc.test", [IPAddress.Parse("10.0.0.1"), IPAddress.Parse("fd00::1")], ttlSeconds: 42);
        var client = new LookupClient(new LookupClientOptions(dns.EndPoint) { UseCache = false, UseTcpOnly = tcpOnly });

        IDnsQueryResponse a = await client.QueryAsync("svc.test", QueryType.A, cancellationToken: cancellationToken);
        IDnsQueryResponse aaaa = await client.QueryAsync("SVC.test", QueryType.AAAA, cancellationToken: cancellationToken);
        IDnsQueryResponse mx = await client.QueryAsync("svc.test", QueryType.MX, cancellationToken: cancellationToken);

        Assert.That(a.Answers.ARecords().Select(r => r.Address), Is.EqualTo(new[] { IPAddress.Parse("10.0.0.1") }));
        Assert.That(a.Answers.ARecords().Single().TimeToLive, Is.EqualTo(42));
        Assert.That(aaaa.Answers.AaaaRecords().Select(r => r.Address), Is.EqualTo(new[] { IPAddress.Parse("fd00::1") }));
        Assert.That(mx.HasError, Is.False);
        Assert.That(mx.Answers, Is.Empty);
        Assert.That(dns.QueryCount("svc.test"), Is.EqualTo(3));
    }

    [Test]
    public async Task Query_UnknownOrFailingName_AnswersWithThatCode(CancellationToken cancellationToken)
    {
        await using var dns = new LoopbackDnsServer();
        dns.SetServFail("broken.test");
        var client = new LookupClient(new LookupClientOptions(dns.EndPoint) { UseCache = false });

        IDnsQueryResponse unknown = await client.QueryAsync("unknown.test", QueryType.A, cancellationToken: cancellationToken);
        IDnsQueryResponse broken = await client.QueryAsync("broken.test", QueryType.A, cancellationToken: cancellationToken);

        Assert.That(unknown.Header.ResponseCode, Is.EqualTo(DnsHeaderResponseCode.NotExistentDomain));
        Assert.That(broken.Header.ResponseCode, Is.EqualTo(DnsHeaderResponseCode.ServerFailure));
    }

    [Test]
    public async Task QueriedNames_SeveralQueries_ListsEachNameOnceInFirstQueryOrder(CancellationToken cancellationToken)
    {
        await using var dns = new LoopbackDnsServer();
        var client = new LookupClient(new LookupClientOptions(dns.EndPoint) { UseCache = false });

        await client.QueryAsync("b.test", QueryType.A, cancellationToken: cancellationToken);
        await client.QueryAsync("a.test", QueryType.A, cancellationToken: cancellationToken);
        await client.QueryAsync("B.test", QueryType.AAAA, cancellationToken: cancellationToken);
        await client.QueryAsync("c.test", QueryType.A, cancellationToken: cancellationToken);

        Assert.That(dns.QueriedNames(), Is.EqualTo(new[] { "b.test", "a.test", "c.test" }));
    }

    [Test]
    public async Task Query_DroppedName_TimesOut(CancellationToken cancellationToken)
    {
        await using var dns = new LoopbackDnsServer();
        dns.SetDrop("silent.test");
        var client = new LookupClient(new LookupClientOptions(dns.EndPoint)
        {
            UseCache = false,
            Timeout = TimeSpan.FromMilliseconds(100),
            Retries = 0,
        });

        Assert.That(
            async () => await client.QueryAsync("silent.test", QueryType.A, cancellationToken: cancellationToken),
            Throws.TypeOf<DnsResponseException>().With.Property(nameof(DnsResponseException.Code)).EqualTo(DnsResponseCode.ConnectionTimeout));
        Assert.That(dns.QueryCount("silent.test"), Is.EqualTo(1));
    }
}

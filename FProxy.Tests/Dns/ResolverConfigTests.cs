using FProxy.Dns;

namespace FProxy.Tests.Dns;

/// <summary>The names res_search queries for a target name, in glibc's order.</summary>
public sealed class ResolverConfigTests
{
    private const string Kubernetes = """
        search ns1.svc.cluster.local svc.cluster.local cluster.local
        nameserver 10.96.0.10
        options ndots:5
        """;

    [TestCase("redis", new[] { "redis.ns1.svc.cluster.local", "redis.svc.cluster.local", "redis.cluster.local", "redis" })]
    [TestCase("redis.cache", new[] { "redis.cache.ns1.svc.cluster.local", "redis.cache.svc.cluster.local", "redis.cache.cluster.local", "redis.cache" })]
    [TestCase("redis.", new[] { "redis" })]
    [TestCase("api.example.com.", new[] { "api.example.com" })]
    [TestCase("a.b.c.d.e.f", new[] { "a.b.c.d.e.f", "a.b.c.d.e.f.ns1.svc.cluster.local", "a.b.c.d.e.f.svc.cluster.local", "a.b.c.d.e.f.cluster.local" })]
    [TestCase("a.b.c.d.e", new[] { "a.b.c.d.e.ns1.svc.cluster.local", "a.b.c.d.e.svc.cluster.local", "a.b.c.d.e.cluster.local", "a.b.c.d.e" })]
    public void Candidates_Kubernetes_FollowGlibcOrder(string name, string[] expected)
    {
        Assert.That(Parse(Kubernetes).Candidates(name), Is.EqualTo(expected));
    }

    [TestCase("db", new[] { "db.corp.example", "db" })]
    [TestCase("db.internal", new[] { "db.internal", "db.internal.corp.example" })]
    public void Candidates_DefaultNdots_TriesDottedNamesAsTheyAreFirst(string name, string[] expected)
    {
        Assert.That(Parse("search corp.example\n").Candidates(name), Is.EqualTo(expected));
    }

    [TestCase("redis", new[] { "redis.a.example" })]
    [TestCase("redis.cache", new[] { "redis.cache.a.example", "redis.cache" })]
    public void Candidates_NoTldQuery_NeverQueriesADotlessNameAsItIs(string name, string[] expected)
    {
        Assert.That(Parse("search a.example\noptions ndots:3 no-tld-query\n").Candidates(name), Is.EqualTo(expected));
    }

    [Test]
    public void Candidates_NoTldQueryWithoutSearchList_StillQueriesTheName()
    {
        Assert.That(Parse("options no-tld-query\n").Candidates("redis"), Is.EqualTo(new[] { "redis" }));
    }

    [Test]
    public void Candidates_RootOnTheSearchList_QueriesTheNameThereAndNotAgainAtTheEnd()
    {
        Assert.That(Parse("search a.example . b.example\n").Candidates("redis"), Is.EqualTo(new[] { "redis.a.example", "redis", "redis.b.example" }));
    }

    [Test]
    public void Candidates_DomainsWithLeadingOrTrailingDotsAndRepeats_AreNormalizedAndQueriedOnce()
    {
        ResolverConfig config = Parse("search .a.example b.example. a.example B.EXAMPLE\n");

        Assert.That(config.Candidates("redis"), Is.EqualTo(new[] { "redis.a.example", "redis.b.example", "redis" }));
    }

    [Test]
    public void Candidates_NameTooLongInADomain_LeavesThatOneOut()
    {
        string name = string.Join('.', Enumerable.Repeat(new string('x', 56), 4)); // 227 characters
        ResolverConfig config = Parse("search short.example a-domain-long-enough.example\noptions ndots:5\n");

        Assert.That(config.Candidates(name), Is.EqualTo(new[] { name + ".short.example", name }));
    }

    private static ResolverConfig Parse(string text) =>
        ResolvConfParser.Parse(new StringReader(text), localDomain: null, resOptions: null, hostName: null);
}

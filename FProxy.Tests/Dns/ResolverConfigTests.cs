using FProxy.Dns;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Dns;

/// <summary>resolv.conf, LOCALDOMAIN and RES_OPTIONS as glibc's res_init reads them, and res_search's order of names.</summary>
public sealed class ResolverConfigTests
{
    private const string Kubernetes = """
        search ns1.svc.cluster.local svc.cluster.local cluster.local
        nameserver 10.96.0.10
        options ndots:5
        """;

    [Test]
    public void Parse_KubernetesResolvConf_ReadsSearchListAndNdots()
    {
        ResolverConfig config = Parse(Kubernetes);

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "ns1.svc.cluster.local", "svc.cluster.local", "cluster.local" }));
        Assert.That(config.Ndots, Is.EqualTo(5));
        Assert.That(config.NoTldQuery, Is.False);
    }

    [Test]
    public void Parse_NoFileNoVariables_HasNoSearchListAndNdotsOne()
    {
        ResolverConfig config = ResolverConfig.Parse(null, localDomain: null, resOptions: null, hostName: "vm");

        Assert.That(config.SearchDomains, Is.Empty);
        Assert.That(config.Ndots, Is.EqualTo(1));
    }

    [Test]
    public void Parse_SearchSeparatedByRunsOfSpacesAndTabs_SplitsThemWithoutEmptyEntries()
    {
        ResolverConfig config = Parse("search\t a.example  \tb.example\t \n");

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "a.example", "b.example" }));
    }

    [TestCase("search a.example b.example\ndomain c.example d.example\n", new[] { "c.example" })]
    [TestCase("domain c.example\nsearch a.example b.example\n", new[] { "a.example", "b.example" })]
    [TestCase("search a.example\nsearch b.example\n", new[] { "b.example" })]
    public void Parse_SearchAndDomainLines_LastOneWins(string text, string[] expected)
    {
        Assert.That(Parse(text).SearchDomains, Is.EqualTo(expected));
    }

    [TestCase("search a.example\nsearch\n")]
    [TestCase("search a.example\nsearch   \n")]
    [TestCase("search a.example\ndomain\t\n")]
    [TestCase("search a.example\n# search b.example\n; domain c.example\n")]
    [TestCase("search a.example\n  search b.example\n")]
    [TestCase("search a.example\nsearchb.example\n")]
    [TestCase("search a.example\nSEARCH b.example\n")]
    public void Parse_EmptyCommentedIndentedOrMisspelledLines_AreIgnored(string text)
    {
        Assert.That(Parse(text).SearchDomains, Is.EqualTo(new[] { "a.example" }));
    }

    [TestCase("ndots:0", 0)]
    [TestCase("ndots:5", 5)]
    [TestCase("ndots:15", 15)]
    [TestCase("ndots:16", 15)]
    [TestCase("ndots:100000000000", 15)]
    [TestCase("ndots:3x", 3)]
    [TestCase("ndots:x", 0)]
    [TestCase("ndots:", 0)]
    [TestCase("ndots:-1", 15)]
    [TestCase("ndots:2 ndots:4", 4)]
    [TestCase("rotate timeout:1 attempts:3 edns0 single-request-reopen trust-ad use-vc no-aaaa inet6 debug ndots:2 bogus", 2)]
    public void Parse_OptionsLine_SetsNdotsAsGlibcDoes(string options, int ndots)
    {
        Assert.That(Parse($"options {options}\n").Ndots, Is.EqualTo(ndots));
    }

    [TestCase("no-tld-query")]
    [TestCase("no_tld_query")]
    public void Parse_NoTldQueryOption_IsHonoured(string option)
    {
        Assert.That(Parse($"options ndots:2 {option}\n").NoTldQuery, Is.True);
    }

    [Test]
    public void Parse_LocalDomain_ReplacesSearchAndDomainLines()
    {
        ResolverConfig config = ResolverConfig.Parse(new StringReader(Kubernetes + "\ndomain other.example\n"), "team.example\tcorp.example ", resOptions: null, hostName: null);

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "team.example", "corp.example" }));
        Assert.That(config.Ndots, Is.EqualTo(5), "LOCALDOMAIN leaves the options alone");
    }

    [Test]
    public void Parse_LocalDomainSetButEmpty_SearchesOnlyTheRoot()
    {
        ResolverConfig config = ResolverConfig.Parse(new StringReader(Kubernetes), localDomain: "", resOptions: null, hostName: "pod.example");

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "" }));
        Assert.That(config.Candidates("redis"), Is.EqualTo(new[] { "redis" }));
    }

    [Test]
    public void Parse_LocalDomainWithNewline_StopsThere()
    {
        ResolverConfig config = ResolverConfig.Parse(null, "a.example b.example\nc.example", resOptions: null, hostName: null);

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "a.example", "b.example" }));
    }

    [Test]
    public void Parse_ResOptions_OverrideTheFilesOptions()
    {
        ResolverConfig config = ResolverConfig.Parse(new StringReader(Kubernetes), localDomain: null, "  ndots:2\tno-tld-query", hostName: null);

        Assert.That(config.Ndots, Is.EqualTo(2));
        Assert.That(config.NoTldQuery, Is.True);
        Assert.That(config.SearchDomains, Has.Count.EqualTo(3), "RES_OPTIONS leaves the search list alone");
    }

    [TestCase("build7.corp.example", new[] { "corp.example" })]
    [TestCase("vm", new string[0])]
    [TestCase(null, new string[0])]
    public void Parse_NoSearchList_FallsBackToTheHostNamesDomain(string? hostName, string[] expected)
    {
        ResolverConfig config = ResolverConfig.Parse(new StringReader("options ndots:2\n"), localDomain: null, resOptions: null, hostName);

        Assert.That(config.SearchDomains, Is.EqualTo(expected));
    }

    [Test]
    public void Parse_SearchListGiven_IgnoresTheHostName()
    {
        ResolverConfig config = ResolverConfig.Parse(new StringReader("search a.example\n"), localDomain: null, resOptions: null, "build7.corp.example");

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "a.example" }));
    }

    [Test]
    public void Load_EnvironmentFromDictionary_ReadsLocalDomainAndResOptions()
    {
        var environment = ResolverEnvironment.Of(new Dictionary<string, string>
        {
            ["LOCALDOMAIN"] = "team.example",
            ["RES_OPTIONS"] = "ndots:3",
        });

        ResolverConfig config = ResolverConfig.Load(new StringReader(Kubernetes), environment);

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "team.example" }));
        Assert.That(config.Ndots, Is.EqualTo(3));
    }

    [Test]
    [NonParallelizable]
    public void Load_ProcessEnvironment_ReadsTheRealVariables()
    {
        using (new EnvironmentVariables(("LOCALDOMAIN", "team.example corp.example"), ("RES_OPTIONS", "ndots:3")))
        {
            ResolverConfig config = ResolverConfig.Load(new StringReader(Kubernetes), ResolverEnvironment.Process);

            Assert.That(config.SearchDomains, Is.EqualTo(new[] { "team.example", "corp.example" }));
            Assert.That(config.Ndots, Is.EqualTo(3));
        }
    }

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
        ResolverConfig.Parse(new StringReader(text), localDomain: null, resOptions: null, hostName: null);
}

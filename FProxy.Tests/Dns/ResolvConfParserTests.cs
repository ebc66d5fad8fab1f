using FProxy.Dns;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Dns;

/// <summary>resolv.conf, LOCALDOMAIN, RES_OPTIONS and the host name as glibc's res_init reads them.</summary>
public sealed class ResolvConfParserTests
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
        ResolverConfig config = ResolvConfParser.Parse(null, localDomain: null, resOptions: null, hostName: "vm");

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
        ResolverConfig config = ResolvConfParser.Parse(new StringReader(Kubernetes + "\ndomain other.example\n"), "team.example\tcorp.example ", resOptions: null, hostName: null);

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "team.example", "corp.example" }));
        Assert.That(config.Ndots, Is.EqualTo(5), "LOCALDOMAIN leaves the options alone");
    }

    [Test]
    public void Parse_LocalDomainSetButEmpty_SearchesOnlyTheRoot()
    {
        ResolverConfig config = ResolvConfParser.Parse(new StringReader(Kubernetes), localDomain: "", resOptions: null, hostName: "pod.example");

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "" }));
        Assert.That(config.Candidates("redis"), Is.EqualTo(new[] { "redis" }));
    }

    [Test]
    public void Parse_LocalDomainWithNewline_StopsThere()
    {
        ResolverConfig config = ResolvConfParser.Parse(null, "a.example b.example\nc.example", resOptions: null, hostName: null);

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "a.example", "b.example" }));
    }

    [Test]
    public void Parse_ResOptions_OverrideTheFilesOptions()
    {
        ResolverConfig config = ResolvConfParser.Parse(new StringReader(Kubernetes), localDomain: null, "  ndots:2\tno-tld-query", hostName: null);

        Assert.That(config.Ndots, Is.EqualTo(2));
        Assert.That(config.NoTldQuery, Is.True);
        Assert.That(config.SearchDomains, Has.Count.EqualTo(3), "RES_OPTIONS leaves the search list alone");
    }

    [TestCase("build7.corp.example", new[] { "corp.example" })]
    [TestCase("vm", new string[0])]
    [TestCase(null, new string[0])]
    public void Parse_NoSearchList_FallsBackToTheHostNamesDomain(string? hostName, string[] expected)
    {
        ResolverConfig config = ResolvConfParser.Parse(new StringReader("options ndots:2\n"), localDomain: null, resOptions: null, hostName);

        Assert.That(config.SearchDomains, Is.EqualTo(expected));
    }

    [Test]
    public void Parse_SearchListGiven_IgnoresTheHostName()
    {
        ResolverConfig config = ResolvConfParser.Parse(new StringReader("search a.example\n"), localDomain: null, resOptions: null, "build7.corp.example");

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

        ResolverConfig config = ResolvConfParser.Load(new StringReader(Kubernetes), environment);

        Assert.That(config.SearchDomains, Is.EqualTo(new[] { "team.example" }));
        Assert.That(config.Ndots, Is.EqualTo(3));
    }

    [Test]
    [NonParallelizable]
    public void Load_ProcessEnvironment_ReadsTheRealVariables()
    {
        using (new EnvironmentVariables(("LOCALDOMAIN", "team.example corp.example"), ("RES_OPTIONS", "ndots:3")))
        {
            ResolverConfig config = ResolvConfParser.Load(new StringReader(Kubernetes), ResolverEnvironment.Process);

            Assert.That(config.SearchDomains, Is.EqualTo(new[] { "team.example", "corp.example" }));
            Assert.That(config.Ndots, Is.EqualTo(3));
        }
    }

    private static ResolverConfig Parse(string text) =>
        ResolvConfParser.Parse(new StringReader(text), localDomain: null, resOptions: null, hostName: null);
}

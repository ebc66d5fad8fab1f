using System.Net;
using FProxy.Dns;
using FProxy.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FProxy.Tests.Dns;

/// <summary>
/// The search list and ndots applied as glibc applies them, through the address table and the
/// loopback DNS responder, which records the order of the names it was asked for.
/// </summary>
[CancelAfter(10_000)]
public sealed class NameSearchTests
{
    private const string Kubernetes = "search ns1.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n";

    private static readonly IPAddress Redis = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress Other = IPAddress.Parse("10.0.0.9");

    private LoopbackDnsServer _dns = null!;
    private string _directory = null!;

    [SetUp]
    public void SetUp()
    {
        _dns = new LoopbackDnsServer();
        _directory = Directory.CreateTempSubdirectory("fproxy-search-").FullName;
    }

    [TearDown]
    public async Task TearDown()
    {
        await _dns.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    [Test]
    public async Task GetAsync_ShortName_ResolvesInTheFirstSearchDomain(CancellationToken cancellationToken)
    {
        _dns.Set("redis.ns1.svc.cluster.local", [Redis]);
        _dns.Set("redis.svc.cluster.local", [Other]);
        await using AddressTable table = CreateTable(Kubernetes);

        DnsAnswer answer = await table.GetAsync("redis", cancellationToken);

        Assert.That(answer.Error, Is.Null);
        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis.ns1.svc.cluster.local" }));
    }

    [Test]
    public async Task GetAsync_NameAndNamespace_ResolvesInTheServiceDomain(CancellationToken cancellationToken)
    {
        _dns.Set("redis.cache.svc.cluster.local", [Redis]);
        _dns.Set("redis.cache", [Other]);
        await using AddressTable table = CreateTable(Kubernetes);

        DnsAnswer answer = await table.GetAsync("redis.cache", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis.cache.ns1.svc.cluster.local", "redis.cache.svc.cluster.local" }));
    }

    [Test]
    public async Task GetAsync_TrailingDot_QueriesOnlyTheNameItself(CancellationToken cancellationToken)
    {
        _dns.Set("redis.ns1.svc.cluster.local", [Other]);
        _dns.Set("redis", [Redis]);
        await using AddressTable table = CreateTable(Kubernetes);

        DnsAnswer answer = await table.GetAsync("redis.", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis" }));
    }

    [Test]
    public async Task GetAsync_TrailingDotAndNothingThere_FailsWithoutSearching(CancellationToken cancellationToken)
    {
        _dns.Set("redis.ns1.svc.cluster.local", [Other]);
        await using AddressTable table = CreateTable(Kubernetes);

        DnsAnswer answer = await table.GetAsync("redis.", cancellationToken);

        Assert.That(answer.Error, Is.EqualTo("\"redis\" not found (NXDOMAIN)"));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis" }));
    }

    [Test]
    public async Task GetAsync_NameWithNdotsDots_IsTriedAsItIsFirst(CancellationToken cancellationToken)
    {
        _dns.Set("db.prod.eu.corp.example.com", [Redis]);
        _dns.Set("db.prod.eu.corp.example.com.ns1.svc.cluster.local", [Other]);
        await using AddressTable table = CreateTable(Kubernetes);

        DnsAnswer answer = await table.GetAsync("db.prod.eu.corp.example.com", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "db.prod.eu.corp.example.com" }));
    }

    [Test]
    public async Task GetAsync_NameWithNdotsDotsNotFoundAsItIs_ThenTriesTheSearchListInOrder(CancellationToken cancellationToken)
    {
        _dns.Set("a.b.c.d.e.f.cluster.local", [Redis]);
        await using AddressTable table = CreateTable(Kubernetes);

        DnsAnswer answer = await table.GetAsync("a.b.c.d.e.f", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[]
        {
            "a.b.c.d.e.f",
            "a.b.c.d.e.f.ns1.svc.cluster.local",
            "a.b.c.d.e.f.svc.cluster.local",
            "a.b.c.d.e.f.cluster.local",
        }));
    }

    [Test]
    public async Task GetAsync_NothingResolves_ErrorNamesEveryNameTriedInGlibcOrder(CancellationToken cancellationToken)
    {
        await using AddressTable table = CreateTable(Kubernetes);

        DnsAnswer answer = await table.GetAsync("redis", cancellationToken);

        Assert.That(answer.Addresses, Is.Empty);
        Assert.That(answer.Error, Is.EqualTo(
            "\"redis\" not found (tried redis.ns1.svc.cluster.local, redis.svc.cluster.local, redis.cluster.local, redis)"));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis.ns1.svc.cluster.local", "redis.svc.cluster.local", "redis.cluster.local", "redis" }));
    }

    [Test]
    public async Task GetAsync_NoAddressRecordsOrServFail_GoesOnToTheNextName(CancellationToken cancellationToken)
    {
        _dns.Set("redis.ns1.svc.cluster.local", []);
        _dns.SetServFail("redis.svc.cluster.local");
        _dns.Set("redis.cluster.local", [Redis]);
        await using AddressTable table = CreateTable(Kubernetes);

        DnsAnswer answer = await table.GetAsync("redis", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis.ns1.svc.cluster.local", "redis.svc.cluster.local", "redis.cluster.local" }));
    }

    [Test]
    public async Task GetAsync_NoAddressRecordsOrServFailEverywhere_ErrorSaysHowEachEnded(CancellationToken cancellationToken)
    {
        _dns.Set("redis.ns1.svc.cluster.local", []);
        _dns.SetServFail("redis.svc.cluster.local");
        await using AddressTable table = CreateTable(Kubernetes);

        DnsAnswer answer = await table.GetAsync("redis", cancellationToken);

        Assert.That(answer.Error, Is.EqualTo(
            "\"redis\" not found (tried redis.ns1.svc.cluster.local: no A or AAAA record, redis.svc.cluster.local: SERVFAIL, redis.cluster.local, redis)"));
    }

    [Test]
    public async Task GetAsync_NoAnswerForOneName_StopsTheSearchThere(CancellationToken cancellationToken)
    {
        _dns.SetNxDomain("redis.ns1.svc.cluster.local");
        _dns.SetDrop("redis.svc.cluster.local");
        _dns.Set("redis.cluster.local", [Other]);
        await using AddressTable table = CreateTable(Kubernetes, queryTimeout: TimeSpan.FromMilliseconds(200));

        DnsAnswer answer = await table.GetAsync("redis", cancellationToken);

        Assert.That(answer.Addresses, Is.Empty, "a later name must not answer for one that may exist");
        Assert.That(answer.Error, Does.StartWith("lookup of \"redis.svc.cluster.local\" timed out"));
        Assert.That(answer.Error, Does.EndWith("; search for \"redis\" stopped (tried redis.ns1.svc.cluster.local, redis.svc.cluster.local)"));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis.ns1.svc.cluster.local", "redis.svc.cluster.local" }));
    }

    [Test]
    public async Task GetAsync_LocalDomain_ReplacesTheSearchList(CancellationToken cancellationToken)
    {
        _dns.Set("redis.ns1.svc.cluster.local", [Other]);
        _dns.Set("redis.team.example", [Redis]);
        await using AddressTable table = CreateTable(Kubernetes, new() { ["LOCALDOMAIN"] = "corp.example team.example" });

        DnsAnswer answer = await table.GetAsync("redis", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis.corp.example", "redis.team.example" }));
    }

    [Test]
    public async Task GetAsync_ResOptionsNdots_OverridesResolvConfs(CancellationToken cancellationToken)
    {
        _dns.Set("redis.cache", [Redis]);
        _dns.Set("redis.cache.ns1.svc.cluster.local", [Other]);
        await using AddressTable table = CreateTable(Kubernetes, new() { ["RES_OPTIONS"] = "attempts:2 ndots:1" });

        DnsAnswer answer = await table.GetAsync("redis.cache", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis.cache" }));
    }

    [Test]
    [NonParallelizable]
    public async Task GetAsync_RealLocalDomainAndResOptionsVariables_AreHonoured(CancellationToken cancellationToken)
    {
        _dns.Set("redis.cache", [Redis]);
        using (new EnvironmentVariables(("LOCALDOMAIN", "team.example"), ("RES_OPTIONS", "ndots:2")))
        {
            // The options' default environment: the process's own variables.
            await using AddressTable table = CreateTable(Kubernetes, processEnvironment: true);

            DnsAnswer answer = await table.GetAsync("redis.cache", cancellationToken);

            Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
            Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis.cache.team.example", "redis.cache" }));
        }
    }

    [Test]
    public async Task GetAsync_ShortNameInHostsFile_AnswersFromItWithoutSearching(CancellationToken cancellationToken)
    {
        _dns.Set("redis.ns1.svc.cluster.local", [Other]);
        await using AddressTable table = CreateTable(Kubernetes, hostsFile: "10.0.0.1 redis\n");

        DnsAnswer answer = await table.GetAsync("redis", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.TotalQueryCount, Is.Zero);
    }

    [Test]
    public async Task GetAsync_HostsFileListsOnlyTheLongName_ShortNameGoesToDns(CancellationToken cancellationToken)
    {
        // The hosts file is matched against the name as given, never with a search domain appended.
        _dns.Set("redis.ns1.svc.cluster.local", [Redis]);
        await using AddressTable table = CreateTable(Kubernetes, hostsFile: "10.0.0.9 redis.ns1.svc.cluster.local\n");

        DnsAnswer answer = await table.GetAsync("redis", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis.ns1.svc.cluster.local" }));
    }

    [Test]
    public async Task GetAsync_TrailingDotAndHostsFileListsTheName_GoesToDnsAsGlibcDoes(CancellationToken cancellationToken)
    {
        _dns.Set("redis", [Redis]);
        await using AddressTable table = CreateTable(Kubernetes, hostsFile: "10.0.0.9 redis\n");

        DnsAnswer answer = await table.GetAsync("redis.", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis" }));
    }

    [Test]
    public async Task GetAsync_ResolvConfChanged_LaterLookupsUseTheNewSearchList(CancellationToken cancellationToken)
    {
        _dns.Set("redis.a.example", [Other]);
        _dns.Set("cache.a.example", [Other]);
        _dns.Set("cache.b.example", [Redis]);
        await using AddressTable table = CreateTable("search a.example\n");
        Assert.That((await table.GetAsync("redis", cancellationToken)).Addresses, Is.EqualTo(new[] { Other }));

        string path = Path.Combine(_directory, "resolv.conf");
        await File.WriteAllTextAsync(path, "search b.example\n", cancellationToken);
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        DnsAnswer answer = await table.GetAsync("cache", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis.a.example", "cache.b.example" }));
    }

    [Test]
    public async Task GetAsync_NoResolvConf_QueriesTheNameAsItIs(CancellationToken cancellationToken)
    {
        _dns.Set("redis", [Redis]);
        await using AddressTable table = CreateTable(resolvConf: null);

        DnsAnswer answer = await table.GetAsync("redis", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { Redis }));
        Assert.That(_dns.QueriedNames(), Is.EqualTo(new[] { "redis" }));
    }

    /// <summary>
    /// A table on the loopback responder with <paramref name="resolvConf"/> as its resolv.conf (a path
    /// that does not exist when null), the given hosts file (none when null), and
    /// <paramref name="environment"/> as its only variables and no host name, or the process's own
    /// variables and host name with <paramref name="processEnvironment"/>.
    /// </summary>
    private AddressTable CreateTable(
        string? resolvConf,
        Dictionary<string, string>? environment = null,
        string? hostsFile = null,
        TimeSpan? queryTimeout = null,
        bool processEnvironment = false)
    {
        string resolvConfPath = Path.Combine(_directory, "resolv.conf");
        if (resolvConf is not null)
        {
            File.WriteAllText(resolvConfPath, resolvConf);
        }

        string hostsPath = "";
        if (hostsFile is not null)
        {
            hostsPath = Path.Combine(_directory, "hosts");
            File.WriteAllText(hostsPath, hostsFile);
        }

        var options = new DnsOptions
        {
            Servers = [_dns.EndPoint],
            HostsFilePath = hostsPath,
            ResolvConfPath = resolvConfPath,
            QueryTimeout = queryTimeout ?? TimeSpan.FromSeconds(2),
        };
        if (!processEnvironment)
        {
            options.ResolverEnvironment = ResolverEnvironment.Of(environment ?? new Dictionary<string, string>());
        }

        // A fake clock that never moves: no refresh runs, so the responder sees the first lookups only.
        return new AddressTable(options, NullLogger<AddressTable>.Instance, new FakeTimeProvider());
    }
}

using System.Diagnostics;
using System.Net;
using FProxy.Dns;
using FProxy.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace FProxy.Tests.Dns;

[CancelAfter(10_000)]
public sealed class AddressTableTests
{
    private static readonly IPAddress V4a = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress V4b = IPAddress.Parse("10.0.0.2");
    private static readonly IPAddress V4c = IPAddress.Parse("10.0.0.3");
    private static readonly IPAddress V6a = IPAddress.Parse("fd00::1");
    private static readonly IPAddress V6b = IPAddress.Parse("fd00::2");

    private LoopbackDnsServer _dns = null!;
    private FakeTimeProvider _time = null!;
    private string? _hostsPath;

    [SetUp]
    public void SetUp()
    {
        _dns = new LoopbackDnsServer();
        _time = new FakeTimeProvider();
        _hostsPath = null;
    }

    [TearDown]
    public async Task TearDown()
    {
        await _dns.DisposeAsync();
        if (_hostsPath is not null)
        {
            File.Delete(_hostsPath);
        }
    }

    [Test]
    public async Task GetAsync_NameInHostsFile_SkipsDns(CancellationToken cancellationToken)
    {
        WriteHostsFile("10.0.0.5 db.internal db  # primary\n::1 db.internal\n");
        _dns.Set("db.internal", [V4a]);
        await using AddressTable table = CreateTable(hostsFile: true);

        table.SetNames(["db.internal"]);
        DnsAnswer answer = await table.GetAsync("DB.Internal", cancellationToken);
        DnsAnswer alias = await table.GetAsync("db", cancellationToken);

        Assert.That(answer, Is.EqualTo(new DnsAnswer(answer.Addresses, null)));
        Assert.That(answer.Addresses, Is.EqualTo(new[] { IPAddress.IPv6Loopback, IPAddress.Parse("10.0.0.5") }));
        Assert.That(alias.Addresses, Is.EqualTo(new[] { IPAddress.Parse("10.0.0.5") }));
        Assert.That(_dns.TotalQueryCount, Is.Zero);
    }

    [Test]
    public async Task GetAsync_HostsFileChanges_PicksUpNewAddress(CancellationToken cancellationToken)
    {
        WriteHostsFile("10.0.0.5 db.internal\n");
        await using AddressTable table = CreateTable(hostsFile: true);
        table.SetNames(["db.internal"]);
        Assert.That((await table.GetAsync("db.internal", cancellationToken)).Addresses, Is.EqualTo(new[] { IPAddress.Parse("10.0.0.5") }));

        WriteHostsFile("10.0.0.6 db.internal\n", lastWrite: DateTime.UtcNow.AddMinutes(1));

        // The hosts file is polled every MinRefresh on the table's clock: step it until the change shows,
        // which must be long before the entry's own refresh (MaxRefresh, 5 min).
        TimeSpan took = await AdvanceUntilAsync(
            async () => (await table.GetAsync("db.internal", cancellationToken)).Addresses.SequenceEqual([IPAddress.Parse("10.0.0.6")]),
            TimeSpan.FromSeconds(1),
            cancellationToken);
        Assert.That(took, Is.LessThan(TimeSpan.FromMinutes(1)));
        Assert.That(_dns.TotalQueryCount, Is.Zero);
    }

    [Test]
    public async Task GetAsync_NameRemovedFromHostsFile_FallsBackToDns(CancellationToken cancellationToken)
    {
        WriteHostsFile("10.0.0.5 db.internal\n");
        _dns.Set("db.internal", [V4a]);
        await using AddressTable table = CreateTable(hostsFile: true);
        table.SetNames(["db.internal"]);
        Assert.That((await table.GetAsync("db.internal", cancellationToken)).Addresses, Is.EqualTo(new[] { IPAddress.Parse("10.0.0.5") }));

        WriteHostsFile("# emptied\n", lastWrite: DateTime.UtcNow.AddMinutes(1));

        TimeSpan took = await AdvanceUntilAsync(
            async () => (await table.GetAsync("db.internal", cancellationToken)).Addresses.SequenceEqual([V4a]),
            TimeSpan.FromSeconds(1),
            cancellationToken);
        Assert.That(took, Is.LessThan(TimeSpan.FromMinutes(1)));
    }

    [Test]
    public async Task GetAsync_AAndAaaaRecords_InterleavesIPv6First(CancellationToken cancellationToken)
    {
        _dns.Set("svc.example", [V4a, V4b, V6a, V6b, V4a]);
        await using AddressTable table = CreateTable();

        DnsAnswer answer = await table.GetAsync("svc.example", cancellationToken);

        Assert.That(answer.Error, Is.Null);
        Assert.That(answer.Addresses, Is.EqualTo(new[] { V6a, V4a, V6b, V4b }));
    }

    [Test]
    public async Task GetAsync_OnlyIPv4Records_ReturnsThem(CancellationToken cancellationToken)
    {
        _dns.Set("v4only.example", [V4a]);
        await using AddressTable table = CreateTable();

        DnsAnswer answer = await table.GetAsync("v4only.example", cancellationToken);

        Assert.That(answer, Is.EqualTo(new DnsAnswer(answer.Addresses, null)));
        Assert.That(answer.Addresses, Is.EqualTo(new[] { V4a }));
    }

    [Test]
    public async Task GetAsync_NxDomain_ReturnsError(CancellationToken cancellationToken)
    {
        _dns.SetNxDomain("db.example");
        await using AddressTable table = CreateTable();

        DnsAnswer answer = await table.GetAsync("db.example", cancellationToken);

        Assert.That(answer.Addresses, Is.Empty);
        Assert.That(answer.Error, Is.EqualTo("\"db.example\" not found (NXDOMAIN)"));
    }

    [Test]
    public async Task GetAsync_ServFail_ReturnsError(CancellationToken cancellationToken)
    {
        _dns.SetServFail("broken.example");
        await using AddressTable table = CreateTable();

        DnsAnswer answer = await table.GetAsync("broken.example", cancellationToken);

        Assert.That(answer.Addresses, Is.Empty);
        Assert.That(answer.Error, Is.EqualTo("lookup of \"broken.example\" failed: server failure (SERVFAIL)"));
    }

    [Test]
    public async Task GetAsync_NoAddressRecords_ReturnsError(CancellationToken cancellationToken)
    {
        _dns.Set("empty.example", []);
        await using AddressTable table = CreateTable();

        DnsAnswer answer = await table.GetAsync("empty.example", cancellationToken);

        Assert.That(answer.Error, Is.EqualTo("\"empty.example\" has no A or AAAA record"));
    }

    [Test]
    public async Task GetAsync_ServerNeverAnswers_ReturnsTimeoutError(CancellationToken cancellationToken)
    {
        _dns.SetDrop("slow.example");
        await using AddressTable table = CreateTable(queryTimeout: TimeSpan.FromMilliseconds(200));

        DnsAnswer answer = await table.GetAsync("slow.example", cancellationToken);

        Assert.That(answer.Addresses, Is.Empty);
        Assert.That(answer.Error, Does.StartWith("lookup of \"slow.example\" timed out"));
    }

    [Test]
    public async Task GetAsync_AnswerTooBigForUdp_FallsBackToTcp(CancellationToken cancellationToken)
    {
        IPAddress[] many = [.. Enumerable.Range(1, 40).Select(i => IPAddress.Parse($"fd00::{i:x}"))];
        _dns.Set("big.example", many);
        await using AddressTable table = CreateTable();

        DnsAnswer answer = await table.GetAsync("big.example", cancellationToken);

        Assert.That(answer.Addresses, Is.EquivalentTo(many));
    }

    [Test]
    public async Task GetAsync_UnknownName_ResolvedOnDemand(CancellationToken cancellationToken)
    {
        _dns.Set("ondemand.example", [V4a]);
        await using AddressTable table = CreateTable();

        DnsAnswer answer = await table.GetAsync("ondemand.example", cancellationToken);

        Assert.That(answer.Addresses, Is.EqualTo(new[] { V4a }));
        Assert.That(table.Names, Does.Contain("ondemand.example"));
        Assert.That(_dns.QueryCount("ondemand.example"), Is.EqualTo(2), "one A and one AAAA query");
    }

    [Test]
    public async Task GetAsync_KnownName_AnswersSynchronouslyFromTable(CancellationToken cancellationToken)
    {
        _dns.Set("svc.example", [V4a]);
        await using AddressTable table = CreateTable();
        table.SetNames(["svc.example"]);
        await table.GetAsync("svc.example", cancellationToken);

        ValueTask<DnsAnswer> again = table.GetAsync("svc.example", cancellationToken);

        Assert.That(again.IsCompletedSuccessfully, Is.True);
        Assert.That(again.Result.Addresses, Is.EqualTo(new[] { V4a }));
        Assert.That(_dns.QueryCount("svc.example"), Is.EqualTo(2));
    }

    [Test]
    public async Task GetAsync_KnownName_DoesNotAllocate(CancellationToken cancellationToken)
    {
        _dns.Set("svc.example", [V4a, V6a]);
        await using AddressTable table = CreateTable();
        await table.GetAsync("SVC.example", cancellationToken);
        int found = 0;
        for (int i = 0; i < 100; i++)
        {
            found += table.GetAsync("svc.example", cancellationToken).Result.Addresses.Length;
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1_000; i++)
        {
            found += table.GetAsync("SVC.EXAMPLE", cancellationToken).Result.Addresses.Length;
        }

        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(found, Is.EqualTo(2_200));
        Assert.That(allocated, Is.Zero);
    }

    [Test]
    public async Task GetAsync_IpLiteral_ReturnsItWithoutQuery(CancellationToken cancellationToken)
    {
        await using AddressTable table = CreateTable();
        table.SetNames(["192.0.2.7"]);

        DnsAnswer v4 = await table.GetAsync("192.0.2.7", cancellationToken);
        DnsAnswer v6 = await table.GetAsync("2001:db8::7", cancellationToken);

        Assert.That(v4.Addresses, Is.EqualTo(new[] { IPAddress.Parse("192.0.2.7") }));
        Assert.That(v6.Addresses, Is.EqualTo(new[] { IPAddress.Parse("2001:db8::7") }));
        Assert.That(_dns.TotalQueryCount, Is.Zero);
    }

    [Test]
    public async Task GetAsync_FirstLookupPending_WaitsForIt(CancellationToken cancellationToken)
    {
        _dns.SetDrop("late.example");
        await using AddressTable table = CreateTable(queryTimeout: TimeSpan.FromMilliseconds(500));
        table.SetNames(["late.example"]);
        await Wait.UntilAsync(() => _dns.QueryCount("late.example") >= 2, cancellationToken);

        ValueTask<DnsAnswer> pending = table.GetAsync("late.example", cancellationToken);
        Assert.That(pending.IsCompleted, Is.False);
        _dns.Set("late.example", [V4a]); // DnsClient's retry of the same lookup gets this.

        Assert.That((await pending).Addresses, Is.EqualTo(new[] { V4a }));
    }

    [Test]
    public async Task GetAsync_FirstLookupPendingAndCallerGivesUp_ThrowsOperationCanceled(CancellationToken cancellationToken)
    {
        _dns.SetDrop("slow.example");
        await using AddressTable table = CreateTable(queryTimeout: TimeSpan.FromSeconds(1));
        table.SetNames(["slow.example"]);
        using var giveUp = new CancellationTokenSource();

        ValueTask<DnsAnswer> pending = table.GetAsync("slow.example", giveUp.Token);
        Assert.That(pending.IsCompleted, Is.False);
        await giveUp.CancelAsync();

        Assert.That(async () => await pending, Throws.InstanceOf<OperationCanceledException>());
    }

    [Test]
    public async Task SetNames_ManyNames_ResolvesInParallelWithoutBlocking(CancellationToken cancellationToken)
    {
        string[] names = ["a.example", "b.example", "c.example", "d.example"];
        foreach (string name in names)
        {
            _dns.SetDrop(name);
        }

        // A long query timeout: were the names resolved one after another, only the first would have
        // been queried before the deadline below.
        await using AddressTable table = CreateTable(queryTimeout: TimeSpan.FromSeconds(5));
        var stopwatch = Stopwatch.StartNew();
        table.SetNames(names);
        stopwatch.Stop();

        Assert.That(names.Select(n => table.GetAsync(n, cancellationToken).IsCompleted), Is.All.False, "SetNames returned before any answer");
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(4));
        await Wait.UntilAsync(() => names.All(n => _dns.QueryCount(n) >= 2), deadline.Token);
        Assert.That(stopwatch.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public async Task SetNames_NewNames_ResolvedBeforeFirstUse(CancellationToken cancellationToken)
    {
        _dns.Set("a.example", [V4a]);
        _dns.Set("b.example", [V6a]);
        await using AddressTable table = CreateTable();

        table.SetNames(["a.example", "b.example"]);
        await Wait.UntilAsync(() => _dns.QueryCount("a.example") == 2 && _dns.QueryCount("b.example") == 2, cancellationToken);

        Assert.That((await table.GetAsync("a.example", cancellationToken)).Addresses, Is.EqualTo(new[] { V4a }));
        Assert.That((await table.GetAsync("b.example", cancellationToken)).Addresses, Is.EqualTo(new[] { V6a }));
        Assert.That(_dns.TotalQueryCount, Is.EqualTo(4));
    }

    [TestCase(0, 1)]
    [TestCase(10, 8)]
    [TestCase(86_400, 300)]
    public async Task Refresh_Ttl_ScheduledAt80PercentClampedToMinAndMaxRefresh(int ttlSeconds, int expectedSeconds, CancellationToken cancellationToken)
    {
        _dns.Set("svc.example", [V4a], ttlSeconds);
        await using AddressTable table = CreateTable();
        DateTimeOffset start = _time.GetUtcNow();

        await table.GetAsync("svc.example", cancellationToken);
        DateTimeOffset next = await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);

        Assert.That(next - start, Is.EqualTo(TimeSpan.FromSeconds(expectedSeconds)));
    }

    [Test]
    public async Task Refresh_BeforeTtlExpires_SeesChangedAnswer(CancellationToken cancellationToken)
    {
        _dns.Set("svc.example", [V4a], ttlSeconds: 10);
        await using AddressTable table = CreateTable();
        table.SetNames(["svc.example"]);
        Assert.That((await table.GetAsync("svc.example", cancellationToken)).Addresses, Is.EqualTo(new[] { V4a }));
        await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);

        _dns.Set("svc.example", [V4b, V6b], ttlSeconds: 10);
        _time.Advance(TimeSpan.FromSeconds(8));

        await Wait.UntilAsync(async () => (await table.GetAsync("svc.example", cancellationToken)).Addresses.SequenceEqual([V6b, V4b]), cancellationToken);
        Assert.That(_dns.QueryCount("svc.example"), Is.EqualTo(4));
    }

    [Test]
    public async Task Refresh_FailsAfterSuccess_KeepsLastGoodAnswerAndBacksOff(CancellationToken cancellationToken)
    {
        _dns.Set("svc.example", [V4a], ttlSeconds: 10);
        await using AddressTable table = CreateTable();
        table.SetNames(["svc.example"]);
        await table.GetAsync("svc.example", cancellationToken);
        await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);

        // SERVFAIL: keep 10.0.0.1, retry after FailureRetry (5 s).
        _dns.SetServFail("svc.example");
        _time.Advance(TimeSpan.FromSeconds(8));
        DateTimeOffset retry = await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);
        Assert.That(retry - _time.GetUtcNow(), Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(await table.GetAsync("svc.example", cancellationToken), Is.EqualTo(new DnsAnswer([V4a], null)).Using<DnsAnswer>(SameAnswer));

        // NXDOMAIN after a success is a failure too: keep the answer, back off to 10 s.
        _dns.SetNxDomain("svc.example");
        _time.Advance(TimeSpan.FromSeconds(5));
        retry = await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);
        Assert.That(retry - _time.GetUtcNow(), Is.EqualTo(TimeSpan.FromSeconds(10)));
        Assert.That(await table.GetAsync("svc.example", cancellationToken), Is.EqualTo(new DnsAnswer([V4a], null)).Using<DnsAnswer>(SameAnswer));

        // Recovery: the new answer is used and the TTL drives refresh again.
        _dns.Set("svc.example", [V4c], ttlSeconds: 10);
        _time.Advance(TimeSpan.FromSeconds(10));
        DateTimeOffset next = await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);
        Assert.That(next - _time.GetUtcNow(), Is.EqualTo(TimeSpan.FromSeconds(8)));
        Assert.That((await table.GetAsync("svc.example", cancellationToken)).Addresses, Is.EqualTo(new[] { V4c }));
    }

    [Test]
    public async Task Refresh_TimeoutAfterSuccess_KeepsLastGoodAnswer(CancellationToken cancellationToken)
    {
        _dns.Set("svc.example", [V6a], ttlSeconds: 10);
        await using AddressTable table = CreateTable(queryTimeout: TimeSpan.FromMilliseconds(200));
        table.SetNames(["svc.example"]);
        await table.GetAsync("svc.example", cancellationToken);
        await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);

        _dns.SetDrop("svc.example");
        int before = _dns.QueryCount("svc.example");
        _time.Advance(TimeSpan.FromSeconds(8));
        DateTimeOffset retry = await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);

        Assert.That(_dns.QueryCount("svc.example"), Is.GreaterThan(before));
        Assert.That(retry - _time.GetUtcNow(), Is.EqualTo(TimeSpan.FromSeconds(5)));
        Assert.That(await table.GetAsync("svc.example", cancellationToken), Is.EqualTo(new DnsAnswer([V6a], null)).Using<DnsAnswer>(SameAnswer));
    }

    [Test]
    public async Task Refresh_FailureStreak_WarnsKeptLastGoodAnswerOnce(CancellationToken cancellationToken)
    {
        var logger = new EventLogger();
        _dns.Set("svc.example", [V4a], ttlSeconds: 10);
        await using AddressTable table = CreateTable(logger: logger);
        table.SetNames(["svc.example"]);
        await table.GetAsync("svc.example", cancellationToken);
        await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);

        _dns.SetServFail("svc.example");
        _time.Advance(TimeSpan.FromSeconds(8));
        await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);
        _time.Advance(TimeSpan.FromSeconds(5));
        await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);

        Assert.That(logger.Count(1100), Is.EqualTo(2), "lookup failed, each time");
        Assert.That(logger.Count(1103), Is.EqualTo(1), "kept last good answer, once per streak");
        Assert.That(logger.Messages, Has.Some.Contains("lookup of \"svc.example\" failed: server failure (SERVFAIL)"));
    }

    [Test]
    public async Task SetNames_NameRemoved_StopsQueryingIt(CancellationToken cancellationToken)
    {
        _dns.Set("keep.example", [V4a], ttlSeconds: 10);
        _dns.Set("drop.example", [V4b], ttlSeconds: 10);
        await using AddressTable table = CreateTable();
        table.SetNames(["keep.example", "drop.example"]);
        await table.GetAsync("keep.example", cancellationToken);
        await table.GetAsync("drop.example", cancellationToken);
        await WaitForScheduledRefreshAsync(table, "keep.example", cancellationToken);
        await WaitForScheduledRefreshAsync(table, "drop.example", cancellationToken);

        table.SetNames(["keep.example"]);
        int dropQueries = _dns.QueryCount("drop.example");
        _time.Advance(TimeSpan.FromSeconds(8));
        await Wait.UntilAsync(() => _dns.QueryCount("keep.example") >= 4, cancellationToken);
        await WaitForScheduledRefreshAsync(table, "keep.example", cancellationToken);

        Assert.That(table.Names, Is.EquivalentTo(new[] { "keep.example" }));
        Assert.That(table.GetNextRefresh("drop.example"), Is.Null);
        Assert.That(_dns.QueryCount("drop.example"), Is.EqualTo(dropQueries));
    }

    [Test]
    public async Task DisposeAsync_StopsRefreshes(CancellationToken cancellationToken)
    {
        _dns.Set("svc.example", [V4a], ttlSeconds: 10);
        AddressTable table = CreateTable();
        table.SetNames(["svc.example"]);
        await table.GetAsync("svc.example", cancellationToken);
        await WaitForScheduledRefreshAsync(table, "svc.example", cancellationToken);

        await table.DisposeAsync();
        _time.Advance(TimeSpan.FromMinutes(10));

        Assert.That(_dns.QueryCount("svc.example"), Is.EqualTo(2));
        Assert.That(() => table.GetAsync("svc.example", cancellationToken), Throws.TypeOf<ObjectDisposedException>());
    }

    private static bool SameAnswer(DnsAnswer x, DnsAnswer y) =>
        x.Error == y.Error && x.Addresses.SequenceEqual(y.Addresses);

    private AddressTable CreateTable(bool hostsFile = false, TimeSpan? queryTimeout = null, ILogger<AddressTable>? logger = null) =>
        new(
            new DnsOptions
            {
                Servers = [_dns.EndPoint],
                HostsFilePath = hostsFile ? _hostsPath! : "", // never the machine's /etc/hosts
                ResolvConfPath = "", // nor its search list (NameSearchTests cover searching)
                ResolverEnvironment = ResolverEnvironment.Of(new Dictionary<string, string>()),
                QueryTimeout = queryTimeout ?? TimeSpan.FromSeconds(2),
            },
            logger ?? NullLogger<AddressTable>.Instance,
            _time);

    private void WriteHostsFile(string text, DateTime? lastWrite = null)
    {
        _hostsPath ??= Path.Combine(Path.GetTempPath(), $"fproxy-hosts-{Guid.NewGuid():N}");
        File.WriteAllText(_hostsPath, text);
        if (lastWrite is DateTime time)
        {
            File.SetLastWriteTimeUtc(_hostsPath, time);
        }
    }

    /// <summary>Waits until the name's refresh loop is waiting for a time later than now (by the fake clock).</summary>
    private async Task<DateTimeOffset> WaitForScheduledRefreshAsync(AddressTable table, string host, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (table.GetNextRefresh(host) is DateTimeOffset next && next > _time.GetUtcNow())
            {
                return next;
            }

            await Task.Delay(5, cancellationToken);
        }
    }

    /// <summary>Steps the fake clock until <paramref name="condition"/> holds; returns how far it moved.</summary>
    private async Task<TimeSpan> AdvanceUntilAsync(Func<Task<bool>> condition, TimeSpan step, CancellationToken cancellationToken)
    {
        DateTimeOffset start = _time.GetUtcNow();
        while (!await condition())
        {
            _time.Advance(step);
            await Task.Delay(5, cancellationToken);
        }

        return _time.GetUtcNow() - start;
    }


    /// <summary>Records event ids and messages.</summary>
    private sealed class EventLogger : ILogger<AddressTable>
    {
        private readonly System.Collections.Concurrent.ConcurrentQueue<(int Id, string Message)> _events = new();

        public IEnumerable<string> Messages => _events.Select(e => e.Message);

        public int Count(int eventId) => _events.Count(e => e.Id == eventId);

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            _events.Enqueue((eventId.Id, formatter(state, exception)));
    }
}

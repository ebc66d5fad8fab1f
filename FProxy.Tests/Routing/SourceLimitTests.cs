using System.Net;
using FProxy.Routing;

namespace FProxy.Tests.Routing;

public sealed class SourceLimitTests
{
    private static UInt128 Key(string address) => SourceLimit.KeyOf(IPAddress.Parse(address));

    [TestCase("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff")]
    [TestCase("2001:db8:1:2::1", "2001:db8:1:2:abcd::7")]
    [TestCase("192.0.2.7", "::ffff:192.0.2.7")]
    public void KeyOf_SameSource_SameKey(string one, string other)
    {
        Assert.That(Key(one), Is.EqualTo(Key(other)));
    }

    [TestCase("2001:db8:1:2::1", "2001:db8:1:3::1")]
    [TestCase("192.0.2.7", "192.0.2.8")]
    [TestCase("127.0.0.1", "::1")]
    [TestCase("0.0.0.0", "::")]
    [TestCase("::ffff:192.0.2.7", "::")]
    public void KeyOf_DifferentSources_DifferentKeys(string one, string other)
    {
        Assert.That(Key(one), Is.Not.EqualTo(Key(other)));
    }

    [Test]
    public void TryEnter_UpToTheMaxPerSource_ThenRefusedUntilOneExits()
    {
        var limit = new SourceLimit();
        var a = Key("192.0.2.1");
        var b = Key("192.0.2.2");

        Assert.That(Enumerable.Range(0, 3).Select(_ => limit.TryEnter(a, 3)), Is.All.True);
        Assert.That(limit.TryEnter(a, 3), Is.False, "the fourth from one source");
        Assert.That(limit.TryEnter(b, 3), Is.True, "another source is not affected");
        Assert.That(limit.OpenFrom(IPAddress.Parse("192.0.2.1")), Is.EqualTo(3));

        limit.Exit(a);
        Assert.That(limit.TryEnter(a, 3), Is.True, "room again after one left");
    }

    [Test]
    public void Exit_LastOfASource_RemovesItsEntry()
    {
        var limit = new SourceLimit();
        var a = Key("2001:db8::1");
        limit.TryEnter(a, 10);
        limit.TryEnter(Key("2001:db8::2"), 10);
        Assert.That(limit.Sources, Is.EqualTo(1), "one /64");

        limit.Exit(a);
        Assert.That(limit.Sources, Is.EqualTo(1));
        limit.Exit(a);
        Assert.That(limit.Sources, Is.Zero, "a source with nothing open takes no memory");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task TryEnterAndExit_RacingOnFewSources_NeverPassTheMaxAndEndEmpty(CancellationToken ct)
    {
        // Four threads per source enter and exit as fast as they can: a lost update would show as
        // a source over its max, or as an entry left behind at the end.
        const int max = 2;
        var limit = new SourceLimit();
        UInt128[] sources = [Key("192.0.2.1"), Key("192.0.2.2"), Key("2001:db8::1")];
        var over = 0;
        var entered = 0;
        var held = new int[sources.Length];
        await Task.WhenAll(Enumerable.Range(0, 4 * sources.Length).Select(worker => Task.Run(() =>
        {
            var index = worker % sources.Length;
            for (var i = 0; i < 20_000 && !ct.IsCancellationRequested; i++)
            {
                if (!limit.TryEnter(sources[index], max))
                {
                    continue;
                }

                Interlocked.Increment(ref entered);
                if (Interlocked.Increment(ref held[index]) > max)
                {
                    Interlocked.Increment(ref over);
                }

                Interlocked.Decrement(ref held[index]);
                limit.Exit(sources[index]);
            }
        }, ct)));

        Assert.That(over, Is.Zero, "never more than the max at once");
        Assert.That(entered, Is.Positive);
        Assert.That(limit.Sources, Is.Zero, "every entry removed once all left");
    }
}

using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Etcd;

[TestFixture]
[Category("Etcd")]
internal sealed class EtcdServerTests
{
    [Test]
    public async Task A_test_etcd_starts_serves_stops_and_restarts_with_its_data()
    {
        await using var etcd = await EtcdServer.StartAsync();
        var revision = await etcd.PutAsync("/t/a", "1");
        Assert.That(await etcd.GetAsync("/t/a"), Is.EqualTo("1"));
        await etcd.StopAsync();
        Assert.That(etcd.IsRunning, Is.False);
        await etcd.RestartAsync();
        Assert.That(await etcd.GetAsync("/t/a"), Is.EqualTo("1"));
        Assert.That(await etcd.RevisionAsync(), Is.GreaterThanOrEqualTo(revision));
    }
}

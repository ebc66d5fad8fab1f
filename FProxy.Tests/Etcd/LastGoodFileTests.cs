using FProxy.Configuration;
using FProxy.Etcd.Source;

namespace FProxy.Tests.Etcd;

internal sealed class LastGoodFileTests
{
    [Test]
    public async Task A_copy_of_apps_whose_values_end_in_comments_reads_back_whole()
    {
        var directory = Directory.CreateTempSubdirectory("fproxy-state-").FullName;
        try
        {
            string[] values =
            [
                "{\"Name\":\"a\",\"Ports\":[7801],\"Targets\":[\"127.0.0.1:9\"]} // first",
                "{\"Name\":\"b\",\"Ports\":[7802],\"Targets\":[\"127.0.0.1:9\"]} /* second */",
                "{\"Name\":\"c\",\"Ports\":[7803],\"Targets\":[\"127.0.0.1:9\"]}",
            ];
            var apps = values.Select(static v => new AppVersion(ConfigParser.ParseApp(v), v)).ToList();
            await LastGoodFile.WriteAsync(directory, 42, "node-1", DateTimeOffset.UnixEpoch, apps, CancellationToken.None);

            var copy = LastGoodFile.Read(directory, ConfigSchema.Default);
            Assert.That(copy, Is.Not.Null);
            Assert.Multiple(() =>
            {
                Assert.That(copy!.Revision, Is.EqualTo(42));
                Assert.That(copy.Config.Apps.Select(static a => a.Name), Is.EqualTo(new[] { "a", "b", "c" }));
                Assert.That(Directory.GetFiles(directory), Has.Length.EqualTo(1), "no temp file left");
            });
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}

using FProxy.Hosting;

namespace FProxy.Tests.Hosting;

/// <summary>Reading net.ipv4.tcp_migrate_req, from files standing in for the kernel's.</summary>
public sealed class MigrateRequestsTests
{
    private string _directory = null!;

    [SetUp]
    public void SetUp() => _directory = Directory.CreateTempSubdirectory("fproxy-migrate-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_directory, recursive: true);

    [TestCase("0\n", false)]
    [TestCase("1\n", true)]
    [TestCase("1", true)]
    public void IsEnabled_KernelValue_ReadsIt(string text, bool expected)
    {
        var path = Path.Combine(_directory, "tcp_migrate_req");
        File.WriteAllText(path, text);

        Assert.That(MigrateRequests.IsEnabled(path), Is.EqualTo(expected));
    }

    [TestCase("")]
    [TestCase("on\n")]
    [TestCase("-1\n")]
    public void IsEnabled_UnknownValue_Null(string text)
    {
        var path = Path.Combine(_directory, "tcp_migrate_req");
        File.WriteAllText(path, text);

        Assert.That(MigrateRequests.IsEnabled(path), Is.Null);
    }

    [Test]
    public void IsEnabled_NoSuchSetting_Null()
    {
        // A kernel before 5.14 has no such file; neither has a system without /proc.
        Assert.That(MigrateRequests.IsEnabled(Path.Combine(_directory, "missing", "tcp_migrate_req")), Is.Null);
    }
}

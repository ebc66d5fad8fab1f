using System.Net;
using FProxy.Dns;

namespace FProxy.Tests.Dns;

public sealed class HostsFileTests
{
    [Test]
    public void Parse_TypicalFile_HonoursCommentsAliasesAndBothFamilies()
    {
        const string text = """
            # The usual header
            127.0.0.1   localhost
            ::1         localhost ip6-localhost   # trailing comment
            10.0.0.5	db.internal DB db-alias
              10.0.0.6  db.internal
            fd00::5     db.internal
            not-an-ip   ignored.example
            #10.9.9.9   commented.example
            10.0.0.7
            """;

        Dictionary<string, IPAddress[]> names = HostsFile.Parse(new StringReader(text));

        Assert.That(names.Keys, Is.EquivalentTo(new[] { "localhost", "ip6-localhost", "db.internal", "DB", "db-alias" }));
        Assert.That(names["LOCALHOST"], Is.EqualTo(new[] { IPAddress.IPv6Loopback, IPAddress.Loopback }));
        Assert.That(names["db.internal"], Is.EqualTo(new[] { IPAddress.Parse("fd00::5"), IPAddress.Parse("10.0.0.5"), IPAddress.Parse("10.0.0.6") }));
        Assert.That(names["db-alias"], Is.EqualTo(new[] { IPAddress.Parse("10.0.0.5") }));
    }
}

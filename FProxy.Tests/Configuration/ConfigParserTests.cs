using System.Net;
using FProxy.Configuration;

namespace FProxy.Tests.Configuration;

public sealed class ConfigParserTests
{
    private const string Seed = """
        {"Apps":[{"Name":"five-thousand","Ports":[5001,5200],"Targets":["localhost:9001","127.0.0.1:9002","[::1]:9003"]}]}
        """;

    [Test]
    public void Parse_SeedFile_ReadsAppPortsAndTargets()
    {
        var config = ConfigParser.Parse(Seed);

        Assert.That(config.Apps, Has.Count.EqualTo(1));
        var app = config.Apps[0];
        Assert.Multiple(() =>
        {
            Assert.That(app.Name, Is.EqualTo("five-thousand"));
            Assert.That(app.Ports, Is.EqualTo(new[] { 5001, 5200 }));
            Assert.That(app.Targets, Is.EqualTo(new[]
            {
                new TargetConfig("localhost", 9001),
                new TargetConfig("127.0.0.1", 9002),
                new TargetConfig("::1", 9003),
            }));
            Assert.That(app.Targets[1].Address, Is.EqualTo(IPAddress.Loopback));
            Assert.That(app.Targets[2].Address, Is.EqualTo(IPAddress.IPv6Loopback));
            Assert.That(app.Targets[2].ToString(), Is.EqualTo("[::1]:9003"));
        });
    }

    [Test]
    public void Parse_NoOptionalKeys_UsesDefaults()
    {
        var app = ConfigParser.Parse(Seed).Apps[0];

        Assert.Multiple(() =>
        {
            Assert.That(app.Bind, Is.Null);
            Assert.That(app.Backlog, Is.EqualTo(AppConfig.DefaultBacklog));
            Assert.That(app.ConnectTimeout, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(app.DrainTimeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
            Assert.That(app.KeepAlive, Is.EqualTo(KeepAliveConfig.Default));
            Assert.That(app.Strategy, Is.EqualTo("RoundRobin"));
            Assert.That(app.Rules, Is.Empty);
            Assert.That(app.SniTimeout, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(app.HealthCheck, Is.Null);
            Assert.That(app.PassiveHealth, Is.EqualTo(PassiveHealthConfig.Default));
            Assert.That(app.AccessLog, Is.False);
            Assert.That(app.MaxConnections, Is.Null);
            Assert.That(app.IdleTimeout, Is.Null);
            Assert.That(app.Targets.Select(t => t.Weight), Is.All.EqualTo(1));
        });
    }

    [Test]
    public void Parse_NewKeysInAnyCase_AreRecognized()
    {
        var app = ConfigParser.Parse("""
            {"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"],"STRATEGY":"random","rules":[{"Match":{"Ports":[1]},"Targets":["r:1"]}],
              "sniTimeout":"2s","healthcheck":"on","PASSIVEHEALTH":"off"}]}
            """).Apps[0];

        Assert.Multiple(() =>
        {
            Assert.That(app.Strategy, Is.EqualTo("Random"));
            Assert.That(app.Rules, Has.Count.EqualTo(1));
            Assert.That(app.SniTimeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(app.HealthCheck, Is.EqualTo(new HealthCheckConfig()));
            Assert.That(app.PassiveHealth, Is.EqualTo(PassiveHealthConfig.Off));
        });
    }

    [Test]
    public void Parse_KeysInAnyCase_AreRecognized()
    {
        var config = ConfigParser.Parse("""
            {"apps":[{"NAME":"a","pOrTs":[1],"targets":["h:2"],"bind":"::","BACKLOG":7,"connecttimeout":"1s",
              "drainTIMEOUT":"2s","keepalive":{"idle":"3s","INTERVAL":"4s","count":5}}]}
            """);

        var app = config.Apps[0];
        Assert.Multiple(() =>
        {
            Assert.That(app.Name, Is.EqualTo("a"));
            Assert.That(app.Ports, Is.EqualTo(new[] { 1 }));
            Assert.That(app.Bind, Is.EqualTo(IPAddress.IPv6Any));
            Assert.That(app.Backlog, Is.EqualTo(7));
            Assert.That(app.ConnectTimeout, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(app.DrainTimeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
            Assert.That(app.KeepAlive, Is.EqualTo(new KeepAliveConfig(true, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(4), 5)));
        });
    }

    [Test]
    public void Parse_AllOptionalKeys_AreApplied()
    {
        var app = ConfigParser.Parse("""
            {
              // Comments and trailing commas are allowed.
              "Apps": [
                {
                  "Name": "web",
                  "Ports": [80, 443,],
                  "Targets": ["backend.internal:8080", "10.0.0.2:8080"],
                  "Bind": "127.0.0.1",
                  "Backlog": 65535,
                  "ConnectTimeout": "250ms",
                  "DrainTimeout": "2h",
                  "KeepAlive": "off",
                },
              ],
            }
            """).Apps[0];

        Assert.Multiple(() =>
        {
            Assert.That(app.Ports, Is.EqualTo(new[] { 80, 443 }));
            Assert.That(app.Bind, Is.EqualTo(IPAddress.Loopback));
            Assert.That(app.Backlog, Is.EqualTo(65535));
            Assert.That(app.ConnectTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(250)));
            Assert.That(app.DrainTimeout, Is.EqualTo(TimeSpan.FromHours(2)));
            Assert.That(app.KeepAlive, Is.EqualTo(KeepAliveConfig.Off));
        });
    }

    [TestCase("\"off\"", false)]
    [TestCase("\"OFF\"", false)]
    [TestCase("false", false)]
    [TestCase("\"on\"", true)]
    [TestCase("true", true)]
    public void Parse_KeepAliveSwitch_GivesOffOrDefault(string value, bool on)
    {
        var app = ConfigParser.Parse($$"""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"],"KeepAlive":{{value}}}]}""").Apps[0];

        Assert.That(app.KeepAlive, Is.EqualTo(on ? KeepAliveConfig.Default : KeepAliveConfig.Off));
    }

    [Test]
    public void Parse_KeepAliveObjectWithSomeFields_TakesTheRestFromDefault()
    {
        var app = ConfigParser.Parse("""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"],"KeepAlive":{"Count":3}}]}""").Apps[0];

        Assert.That(app.KeepAlive, Is.EqualTo(KeepAliveConfig.Default with { Count = 3 }));
    }

    [Test]
    public void Parse_EmptyApps_GivesConfigWithNoApps()
    {
        Assert.That(ConfigParser.Parse("""{"Apps":[]}"""), Is.EqualTo(ProxyConfig.Empty));
    }

    [Test]
    public void Parse_NullBind_MeansDefault()
    {
        var app = ConfigParser.Parse("""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"],"Bind":null}]}""").Apps[0];

        Assert.That(app.Bind, Is.Null);
    }

    [Test]
    public void Parse_SameTextTwice_GivesEqualSnapshots()
    {
        var first = ConfigParser.Parse(Seed);
        var second = ConfigParser.Parse(Seed.Replace(",", ", ", StringComparison.Ordinal));

        Assert.That(second, Is.Not.SameAs(first));
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void Parse_SeveralApps_KeepsFileOrder()
    {
        var config = ConfigParser.Parse("""
            {"Apps":[{"Name":"b","Ports":[2],"Targets":["h:1"]},{"Name":"a","Ports":[1],"Targets":["h:1"]}]}
            """);

        Assert.That(config.Apps.Select(a => a.Name), Is.EqualTo(new[] { "b", "a" }));
    }

    [TestCase("example.com:80", "example.com", 80)]
    [TestCase("my_service.ns.svc.cluster.local.:1", "my_service.ns.svc.cluster.local.", 1)]
    [TestCase("a-b:65535", "a-b", 65535)]
    [TestCase("10.1.2.3:443", "10.1.2.3", 443)]
    [TestCase("[2001:db8::1]:8080", "2001:db8::1", 8080)]
    [TestCase("[::ffff:10.0.0.1]:80", "::ffff:10.0.0.1", 80)]
    public void TryParse_ValidTarget_GivesHostAndPort(string text, string host, int port)
    {
        Assert.That(TargetParser.TryParse(text, out var target, out var problem), Is.True, problem);
        Assert.That(target, Is.EqualTo(new TargetConfig(host, port)));
    }
}

using FProxy.Configuration;

namespace FProxy.Tests.Configuration;

/// <summary>The PROXY protocol keys: <c>"ProxyProtocol"</c> (apps and rules), <c>"AcceptProxyProtocol"</c>, <c>"ProxyProtocolTimeout"</c>, <c>"TrustedProxies"</c>.</summary>
public sealed class ConfigParserProxyProtocolTests
{
    private static AppConfig App(string extra) =>
        ConfigParser.Parse($$"""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"]{{extra}}}]}""").Apps[0];

    private static IReadOnlyList<string> AppErrors(string extra) =>
        Assert.Throws<ConfigException>(() => App(extra))!.Errors;

    [Test]
    public void Parse_NoKeys_SendsAndAcceptsNoHeader()
    {
        var app = App("");
        Assert.Multiple(() =>
        {
            Assert.That(app.ProxyProtocol, Is.EqualTo(ProxyProtocolVersion.None));
            Assert.That(app.AcceptProxyProtocol, Is.False);
            Assert.That(app.ProxyProtocolTimeout, Is.EqualTo(TimeSpan.FromSeconds(3)));
            Assert.That(app.TrustedProxies, Is.Empty);
        });
    }

    [TestCase("\"v1\"", ProxyProtocolVersion.V1)]
    [TestCase("\"V2\"", ProxyProtocolVersion.V2)]
    [TestCase("\"off\"", ProxyProtocolVersion.None)]
    public void Parse_ProxyProtocol_IsApplied(string value, ProxyProtocolVersion expected)
    {
        Assert.That(App($",\"ProxyProtocol\":{value}").ProxyProtocol, Is.EqualTo(expected));
    }

    [TestCase("\"v3\"")]
    [TestCase("2")]
    [TestCase("true")]
    [TestCase("null")]
    public void Parse_ProxyProtocolUnknown_IsAnError(string value)
    {
        Assert.That(AppErrors($",\"ProxyProtocol\":{value}"),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"ProxyProtocol\" must be \"v1\", \"v2\" or \"off\", got {value}" }));
    }

    [Test]
    public void Parse_RuleWithoutProxyProtocol_InheritsTheApps()
    {
        var app = App(""","ProxyProtocol":"v2","Rules":[{"Match":{"Ports":[1]},"Targets":["r:1"]},{"Match":{"Ports":[1]},"Targets":["s:1"],"ProxyProtocol":"v1"}]""");
        Assert.Multiple(() =>
        {
            Assert.That(app.Rules[0].ProxyProtocol, Is.Null);
            Assert.That(app.Rules[1].ProxyProtocol, Is.EqualTo(ProxyProtocolVersion.V1));
        });
    }

    [Test]
    public void Parse_RuleWithBadProxyProtocol_NamesTheRule()
    {
        Assert.That(AppErrors(""","Rules":[{"Match":{"Ports":[1]},"Targets":["r:1"],"ProxyProtocol":"v9"}]"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": Rules[0]: \"ProxyProtocol\" must be \"v1\", \"v2\" or \"off\", got \"v9\"" }));
    }

    [Test]
    public void Parse_TargetWithTwoHeaders_IsAnError()
    {
        // Its health probes can send only one kind of header.
        var errors = AppErrors(""","ProxyProtocol":"v2","Rules":[{"Match":{"Ports":[1]},"Targets":["h:1"],"ProxyProtocol":"off"}]""");
        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Does.Contain("Rules[0].Targets[0]: \"h:1\" gets PROXY protocol \"off\" here but \"v2\" in Targets[0]"));
    }

    [Test]
    public void Parse_AcceptWithTrustedProxies_StoresCanonicalRanges()
    {
        var app = App(""","AcceptProxyProtocol":true,"ProxyProtocolTimeout":"500ms","TrustedProxies":["10.0.0.0/8","::1"]""");
        Assert.Multiple(() =>
        {
            Assert.That(app.AcceptProxyProtocol, Is.True);
            Assert.That(app.ProxyProtocolTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(500)));
            Assert.That(app.TrustedProxies, Is.EqualTo(new[] { "10.0.0.0/8", "::1/128" }));
        });
    }

    [Test]
    public void Parse_TrustedProxiesWithoutAccept_IsAnError()
    {
        Assert.That(AppErrors(""","TrustedProxies":["10.0.0.0/8"]"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": \"TrustedProxies\" needs \"AcceptProxyProtocol\": true (it says who may send PROXY protocol headers)" }));
    }

    [Test]
    public void Parse_TrustedProxiesNotARange_NamesTheEntry()
    {
        var errors = AppErrors(""","AcceptProxyProtocol":true,"TrustedProxies":["10.0.0.0/8","nope"]""");
        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Does.StartWith("Apps[0] \"a\": TrustedProxies[1]: "));
    }

    [TestCase("\"yes\"")]
    [TestCase("1")]
    public void Parse_AcceptNotABoolean_IsAnError(string value)
    {
        Assert.That(AppErrors($",\"AcceptProxyProtocol\":{value}"),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"AcceptProxyProtocol\" must be true or false, got {value}" }));
    }

    [Test]
    public void Parse_BadTimeout_IsAnError()
    {
        Assert.That(AppErrors(""","ProxyProtocolTimeout":"soon" """)[0], Does.Contain("\"ProxyProtocolTimeout\": \"soon\" is not a duration"));
    }

    [Test]
    public void Validate_CodeBuiltApp_ChecksTheSameRules()
    {
        var app = App("") with
        {
            ProxyProtocol = (ProxyProtocolVersion)7,
            TrustedProxies = new EquatableList<string>(["10.0.0.0/33"]),
            ProxyProtocolTimeout = TimeSpan.Zero,
        };
        var problems = ConfigValidator.ValidateApp(app);
        Assert.Multiple(() =>
        {
            Assert.That(problems, Has.Some.Contains("\"ProxyProtocol\": 7 is not a PROXY protocol version"));
            Assert.That(problems, Has.Some.Contains("\"TrustedProxies\" needs \"AcceptProxyProtocol\": true"));
            Assert.That(problems, Has.Some.StartsWith("TrustedProxies[0]: "));
            Assert.That(problems, Has.Some.Contains("ProxyProtocolTimeout"));
        });
    }

    [Test]
    public void Hash_DiffersWhenOnlyTheHeaderSettingDiffers()
    {
        var plain = new ProxyConfig { Apps = new EquatableList<AppConfig>([App("")]) };
        var sending = new ProxyConfig { Apps = new EquatableList<AppConfig>([App(",\"ProxyProtocol\":\"v1\"")]) };
        var accepting = new ProxyConfig { Apps = new EquatableList<AppConfig>([App(",\"AcceptProxyProtocol\":true")]) };
        Assert.That(new[] { ConfigHash.Compute(plain), ConfigHash.Compute(sending), ConfigHash.Compute(accepting) }, Is.Unique);
    }
}

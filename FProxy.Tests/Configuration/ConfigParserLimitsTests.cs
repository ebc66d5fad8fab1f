using FProxy.Configuration;

namespace FProxy.Tests.Configuration;

/// <summary>The <c>"AccessLog"</c>, connection limit and <c>"IdleTimeout"</c> keys.</summary>
public sealed class ConfigParserLimitsTests
{
    private const string DurationHint = "(expected a positive integer followed by ms, s, m or h, e.g. \"250ms\", \"5s\", \"1m\")";

    /// <summary>App "a" with <paramref name="extra"/> added to its keys.</summary>
    private static AppConfig App(string extra) =>
        ConfigParser.Parse($$"""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"]{{extra}}}]}""").Apps[0];

    private static IReadOnlyList<string> AppErrors(string extra) =>
        Assert.Throws<ConfigException>(() => App(extra))!.Errors;

    [Test]
    public void Parse_NoAccessLog_IsOff()
    {
        Assert.That(App("").AccessLog, Is.False);
    }

    [Test]
    public void Parse_NoMaxConnections_HasNoLimit()
    {
        Assert.That(App("").MaxConnections, Is.Null);
    }

    [Test]
    public void Parse_NoIdleTimeout_IsOff()
    {
        Assert.That(App("").IdleTimeout, Is.Null);
    }

    [TestCase("true", true)]
    [TestCase("false", false)]
    public void Parse_AccessLogBoolean_IsApplied(string value, bool expected)
    {
        Assert.That(App($",\"AccessLog\":{value}").AccessLog, Is.EqualTo(expected));
    }

    [TestCase("\"on\"")]
    [TestCase("\"true\"")]
    [TestCase("1")]
    [TestCase("null")]
    [TestCase("{}")]
    public void Parse_AccessLogNotABoolean_IsAnError(string value)
    {
        Assert.That(AppErrors($",\"AccessLog\":{value}"),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"AccessLog\" must be true or false, got {value}" }));
    }

    [Test]
    public void Parse_NoMaxConnectionsPerSource_HasNoLimit()
    {
        Assert.That(App("").MaxConnectionsPerSource, Is.Null);
    }

    [Test]
    public void Parse_NoMaxPeekingConnections_IsTheDefault()
    {
        Assert.That(App("").MaxPeekingConnections, Is.EqualTo(AppConfig.DefaultMaxPeekingConnections));
    }

    /// <summary>The three connection limits read alike.</summary>
    private static readonly string[] LimitKeys = ["MaxConnections", "MaxConnectionsPerSource", "MaxPeekingConnections"];

    private static int? Limit(AppConfig app, string key) => key switch
    {
        "MaxConnections" => app.MaxConnections,
        "MaxConnectionsPerSource" => app.MaxConnectionsPerSource,
        _ => app.MaxPeekingConnections,
    };

    [Test]
    public void Parse_ConnectionLimitInRange_IsApplied(
        [ValueSource(nameof(LimitKeys))] string key,
        [Values("1", "250", "1000000", "5e3")] string value)
    {
        Assert.That(Limit(App($",\"{key}\":{value}"), key), Is.EqualTo((int)double.Parse(value, System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void Parse_ConnectionLimitNull_HasNoLimit([ValueSource(nameof(LimitKeys))] string key)
    {
        Assert.That(Limit(App($",\"{key}\":null"), key), Is.Null);
    }

    [Test]
    public void Parse_ConnectionLimitOutOfRange_IsAnError(
        [ValueSource(nameof(LimitKeys))] string key,
        [Values("0", "-1", "1000001", "99999999999999999999999")] string value)
    {
        Assert.That(AppErrors($",\"{key}\":{value}"),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"{key}\": {value} is outside 1..1000000" }));
    }

    [Test]
    public void Parse_ConnectionLimitNotAnInteger_IsAnError(
        [ValueSource(nameof(LimitKeys))] string key,
        [Values("\"100\"", "\"off\"", "1.5", "true", "[]")] string value)
    {
        Assert.That(AppErrors($",\"{key}\":{value}"),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"{key}\" must be an integer (or null for no limit), got {value}" }));
    }

    [Test]
    public void Validate_ConnectionLimitsOutOfRange_EachNamed()
    {
        var app = App("") with { MaxConnections = 0, MaxConnectionsPerSource = -1, MaxPeekingConnections = 1_000_001 };
        Assert.That(ConfigValidator.ValidateApp(app), Is.EqualTo(new[]
        {
            "\"MaxConnections\": 0 is outside 1..1000000",
            "\"MaxConnectionsPerSource\": -1 is outside 1..1000000",
            "\"MaxPeekingConnections\": 1000001 is outside 1..1000000",
        }));
    }

    [TestCase("1s", 1_000)]
    [TestCase("1500ms", 1_500)]
    [TestCase("90s", 90_000)]
    [TestCase("5m", 300_000)]
    [TestCase("576h", 576 * 3_600_000L)]
    public void Parse_IdleTimeoutDuration_IsApplied(string value, long milliseconds)
    {
        Assert.That(App($",\"IdleTimeout\":\"{value}\"").IdleTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [TestCase("\"off\"")]
    [TestCase("\"OFF\"")]
    [TestCase("\"Off\"")]
    [TestCase("null")]
    public void Parse_IdleTimeoutOff_IsOff(string value)
    {
        Assert.That(App($",\"IdleTimeout\":{value}").IdleTimeout, Is.Null);
    }

    [TestCase("\"50ms\"")]
    [TestCase("\"99ms\"")]
    public void Parse_IdleTimeoutUnder100ms_IsAnError(string value)
    {
        Assert.That(AppErrors($",\"IdleTimeout\":{value}"), Is.EqualTo(new[]
        {
            $"Apps[0] \"a\": \"IdleTimeout\": {value} is too short (at least 100ms: idle connections are checked a few times per IdleTimeout, which costs more the shorter it is)",
        }));
    }

    [Test]
    public void Parse_IdleTimeoutOverTheTimerLimit_IsAnError()
    {
        Assert.That(AppErrors(",\"IdleTimeout\":\"577h\""),
            Is.EqualTo(new[] { "Apps[0] \"a\": \"IdleTimeout\": \"577h\" is too long (at most 576h)" }));
    }

    [TestCase("30")]
    [TestCase("\"30\"")]
    [TestCase("\"0s\"")]
    [TestCase("\"1.5s\"")]
    [TestCase("\"on\"")]
    [TestCase("false")]
    [TestCase("true")]
    [TestCase("{}")]
    public void Parse_IdleTimeoutNotADuration_IsAnError(string value)
    {
        Assert.That(AppErrors($",\"IdleTimeout\":{value}"),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"IdleTimeout\": {value} is not a duration or \"off\" {DurationHint}" }));
    }

    [Test]
    public void Parse_LimitKeysInAnyCase_AreRecognized()
    {
        var app = App(""","accesslog":true,"MAXCONNECTIONS":10,"idleTimeOut":"30s" """);

        Assert.Multiple(() =>
        {
            Assert.That(app.AccessLog, Is.True);
            Assert.That(app.MaxConnections, Is.EqualTo(10));
            Assert.That(app.IdleTimeout, Is.EqualTo(TimeSpan.FromSeconds(30)));
        });
    }

    [Test]
    public void Parse_LimitKeyGivenTwiceInDifferentCase_IsAnError()
    {
        Assert.That(AppErrors(""","MaxConnections":10,"maxconnections":20"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": key \"maxconnections\" is given twice (also as \"MaxConnections\"; keys ignore case)" }));
    }

    [Test]
    public void Parse_BadLimitsAndOtherProblems_ReportsEveryOne()
    {
        var errors = AppErrors(""","AccessLog":"yes","MaxConnections":0,"IdleTimeout":"5x","Backlog":0,"IdleTimout":"1s" """);

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Apps[0] \"a\": unknown key \"IdleTimout\" (did you mean \"IdleTimeout\"?)",
            "Apps[0] \"a\": \"Backlog\": 0 is outside 1..65535",
            "Apps[0] \"a\": \"AccessLog\" must be true or false, got \"yes\"",
            "Apps[0] \"a\": \"MaxConnections\": 0 is outside 1..1000000",
            $"Apps[0] \"a\": \"IdleTimeout\": \"5x\" is not a duration or \"off\" {DurationHint}",
        }));
    }

    [Test]
    public void Parse_LimitKeysChanged_GiveAnotherSnapshotAndHash()
    {
        var plain = ConfigParser.Parse("""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"]}]}""");
        var explicitDefaults = ConfigParser.Parse("""
            {"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"],"accessLog":false,"MaxConnections":null,"IdleTimeout":"OFF"}]}
            """);

        Assert.That(explicitDefaults, Is.EqualTo(plain), "explicit defaults are the defaults");
        Assert.That(ConfigHash.Compute(explicitDefaults), Is.EqualTo(ConfigHash.Compute(plain)));
        foreach (var extra in new[] { ",\"AccessLog\":true", ",\"MaxConnections\":100", ",\"IdleTimeout\":\"5m\"" })
        {
            var changed = ConfigParser.Parse($$"""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"]{{extra}}}]}""");
            Assert.That(changed, Is.Not.EqualTo(plain), extra);
            Assert.That(ConfigHash.Compute(changed), Is.Not.EqualTo(ConfigHash.Compute(plain)), extra);
        }
    }
}

using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Health;

namespace FProxy.Tests.Configuration;

/// <summary>The <c>"HealthCheck"</c> and <c>"PassiveHealth"</c> keys.</summary>
public sealed class ConfigParserHealthTests
{
    private const string DurationHint = "(expected a positive integer followed by ms, s, m or h, e.g. \"250ms\", \"5s\", \"1m\")";
    private const string ValidProbes = "valid probes: tcp, send-expect";
    private const string EjectionWhy = "an ejection starts at \"BaseEjection\" and doubles up to \"MaxEjection\"";

    /// <summary>App "a" with <paramref name="extra"/> added to its keys.</summary>
    private static AppConfig App(string extra, ConfigSchema? schema = null) =>
        ConfigParser.Parse($$"""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"]{{extra}}}]}""", "config", schema).Apps[0];

    private static IReadOnlyList<string> AppErrors(string extra, ConfigSchema? schema = null) =>
        Assert.Throws<ConfigException>(() => App(extra, schema))!.Errors;

    private static HealthCheckConfig? Check(string value, ConfigSchema? schema = null) => App($",\"HealthCheck\":{value}", schema).HealthCheck;

    private static IReadOnlyList<string> CheckErrors(string value, ConfigSchema? schema = null) => AppErrors($",\"HealthCheck\":{value}", schema);

    private static PassiveHealthConfig Passive(string value) => App($",\"PassiveHealth\":{value}").PassiveHealth;

    private static IReadOnlyList<string> PassiveErrors(string value) => AppErrors($",\"PassiveHealth\":{value}");

    [Test]
    public void Parse_NoHealthCheck_HasNoActiveChecks()
    {
        Assert.That(App("").HealthCheck, Is.Null);
    }

    [TestCase("null")]
    [TestCase("\"off\"")]
    [TestCase("\"OFF\"")]
    [TestCase("false")]
    public void Parse_HealthCheckOff_HasNoActiveChecks(string value)
    {
        Assert.That(Check(value), Is.Null);
    }

    [TestCase("\"on\"")]
    [TestCase("\"On\"")]
    [TestCase("true")]
    [TestCase("{}")]
    public void Parse_HealthCheckOn_UsesEveryDefault(string value)
    {
        var check = Check(value);

        Assert.That(check, Is.EqualTo(new HealthCheckConfig()));
        Assert.Multiple(() =>
        {
            Assert.That(check!.Interval, Is.EqualTo(TimeSpan.FromSeconds(5)));
            Assert.That(check.Timeout, Is.EqualTo(TimeSpan.FromSeconds(1)));
            Assert.That(check.HealthyThreshold, Is.EqualTo(2));
            Assert.That(check.UnhealthyThreshold, Is.EqualTo(3));
            Assert.That(check.Send, Is.Null);
            Assert.That(check.Expect, Is.Null);
            Assert.That(check.Probe, Is.EqualTo("tcp"));
        });
    }

    [Test]
    public void Parse_HealthCheckWithEveryKey_IsApplied()
    {
        var check = Check("""
            {"Interval":"10s","Timeout":"2s","HealthyThreshold":1,"UnhealthyThreshold":100,"Send":"PING\r\n","Expect":"+PONG","Probe":"send-expect"}
            """);

        Assert.That(check, Is.EqualTo(new HealthCheckConfig
        {
            Interval = TimeSpan.FromSeconds(10),
            Timeout = TimeSpan.FromSeconds(2),
            HealthyThreshold = 1,
            UnhealthyThreshold = 100,
            Send = "PING\r\n",
            Expect = "+PONG",
            Probe = HealthCheckConfig.SendExpectProbe,
        }));
    }

    [Test]
    public void Parse_HealthCheckKeysInAnyCase_AreRecognized()
    {
        var check = App(""","healthcheck":{"INTERVAL":"3s","timeout":"3s","healthythreshold":4,"UnHealthyThreshold":5,"send":"x","EXPECT":"y","probe":"SEND-EXPECT"}""").HealthCheck;

        Assert.That(check, Is.EqualTo(new HealthCheckConfig
        {
            Interval = TimeSpan.FromSeconds(3),
            Timeout = TimeSpan.FromSeconds(3),
            HealthyThreshold = 4,
            UnhealthyThreshold = 5,
            Send = "x",
            Expect = "y",
            Probe = "send-expect",
        }));
    }

    [TestCase("""{"Send":"PING\r\n"}""")]
    [TestCase("""{"Expect":"SSH-"}""")]
    public void Parse_SendOrExpectWithoutProbe_UsesSendExpect(string value)
    {
        Assert.That(Check(value)!.Probe, Is.EqualTo(HealthCheckConfig.SendExpectProbe));
    }

    [TestCase("""{"Probe":"TCP"}""", "tcp")]
    [TestCase("""{"Probe":"Send-Expect","Expect":"x"}""", "send-expect")]
    public void Parse_ProbeInAnyCase_StoresTheRegisteredSpelling(string value, string stored)
    {
        Assert.That(Check(value)!.Probe, Is.EqualTo(stored));
    }

    [Test]
    public void Parse_SendExpectProbeWithNeitherSendNorExpect_IsAnError()
    {
        Assert.That(CheckErrors("""{"Probe":"send-expect"}"""), Is.EqualTo(new[]
        {
            "Apps[0] \"a\": \"HealthCheck.Probe\": \"send-expect\" needs \"Send\", \"Expect\" or both (without them it would only connect: leave \"Probe\" out for that)",
        }));
    }

    [Test]
    public void Parse_CustomSchema_AcceptsItsProbeWithSendAndExpect()
    {
        var schema = new ConfigSchema(StrategyRegistry.BuiltInNames, [.. ProbeRegistry.BuiltInNames, "redis"]);

        var check = Check("""{"Probe":"Redis","Send":"PING\r\n","Expect":"+PONG"}""", schema);

        Assert.That(check!.Probe, Is.EqualTo("redis"));
    }

    [Test]
    public void Parse_DefaultSchema_RejectsACustomProbe()
    {
        Assert.That(CheckErrors("""{"Probe":"redis"}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"HealthCheck.Probe\": unknown probe \"redis\"; {ValidProbes}" }));
    }

    [Test]
    public void Parse_MisspeltProbe_SuggestsTheClosest()
    {
        Assert.That(CheckErrors("""{"Probe":"tpc"}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"HealthCheck.Probe\": unknown probe \"tpc\" (did you mean \"tcp\"?); {ValidProbes}" }));
    }

    [Test]
    public void Parse_ProbeNotAString_IsAnError()
    {
        Assert.That(CheckErrors("""{"Probe":1}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"HealthCheck.Probe\" must be a string, got 1; {ValidProbes}" }));
    }

    [TestCase("""{"Probe":"tcp","Send":"x"}""", "\"Send\" would be")]
    [TestCase("""{"Probe":"TCP","Expect":"x"}""", "\"Expect\" would be")]
    [TestCase("""{"Send":"x","Expect":"y","Probe":"tcp"}""", "\"Send\" and \"Expect\" would be")]
    public void Parse_SendOrExpectWithTcpProbe_IsAnError(string value, string ignored)
    {
        Assert.That(CheckErrors(value), Is.EqualTo(new[]
        {
            $"Apps[0] \"a\": \"HealthCheck.Probe\": \"tcp\" only connects, so {ignored} ignored (use \"send-expect\", or leave \"Probe\" out)",
        }));
    }

    [TestCase("5")]
    [TestCase("\"maybe\"")]
    [TestCase("[]")]
    public void Parse_HealthCheckOfWrongKind_IsAnError(string value)
    {
        Assert.That(CheckErrors(value), Is.EqualTo(new[]
        {
            $"Apps[0] \"a\": \"HealthCheck\" must be \"on\", \"off\", true, false, null or an object like {{\"Interval\": \"5s\", \"Timeout\": \"1s\"}}, got {value}",
        }));
    }

    [Test]
    public void Parse_MisspeltHealthCheckKey_SuggestsTheKnownKey()
    {
        Assert.That(CheckErrors("""{"Intervall":"5s"}"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": unknown key \"Intervall\" in \"HealthCheck\" (did you mean \"Interval\"?)" }));
    }

    [Test]
    public void Parse_ShortestInterval_IsAccepted()
    {
        var check = Check("""{"Interval":"10ms","Timeout":"10ms"}""");

        Assert.That(check!.Interval, Is.EqualTo(TimeSpan.FromMilliseconds(10)));
        Assert.That(check.Timeout, Is.EqualTo(TimeSpan.FromMilliseconds(10)));
    }

    [TestCase("\"9ms\"", "\"HealthCheck.Interval\": \"9ms\" is too short (at least 10ms)")]
    [TestCase("\"577h\"", "\"HealthCheck.Interval\": \"577h\" is too long (at most 576h)")]
    [TestCase("\"0s\"", "\"HealthCheck.Interval\": \"0s\" is not a duration " + DurationHint)]
    [TestCase("5", "\"HealthCheck.Interval\": 5 is not a duration " + DurationHint)]
    public void Parse_BadInterval_IsAnError(string interval, string problem)
    {
        Assert.That(CheckErrors($$"""{"Interval":{{interval}},"Timeout":"10ms"}"""), Is.EqualTo(new[] { "Apps[0] \"a\": " + problem }));
    }

    [TestCase("\"0ms\"")]
    [TestCase("\"-1s\"")]
    [TestCase("null")]
    public void Parse_TimeoutNotAPositiveDuration_IsAnError(string timeout)
    {
        Assert.That(CheckErrors($$"""{"Timeout":{{timeout}}}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"HealthCheck.Timeout\": {timeout} is not a duration {DurationHint}" }));
    }

    [TestCase("""{"Interval":"2s","Timeout":"3s"}""")]
    [TestCase("""{"Timeout":"10s"}""")]
    [TestCase("""{"Interval":"100ms"}""")]
    public void Parse_TimeoutLongerThanInterval_IsAllowed(string value)
    {
        // A probe that runs past the interval only delays the next one (HAProxy and Envoy allow it too).
        Assert.That(Check(value), Is.Not.Null);
    }

    [TestCase("HealthyThreshold", "0", "\"HealthCheck.HealthyThreshold\": 0 is outside 1..100")]
    [TestCase("HealthyThreshold", "101", "\"HealthCheck.HealthyThreshold\": 101 is outside 1..100")]
    [TestCase("UnhealthyThreshold", "-3", "\"HealthCheck.UnhealthyThreshold\": -3 is outside 1..100")]
    [TestCase("UnhealthyThreshold", "\"3\"", "\"HealthCheck.UnhealthyThreshold\" must be an integer, got \"3\"")]
    [TestCase("HealthyThreshold", "1.5", "\"HealthCheck.HealthyThreshold\" must be an integer, got 1.5")]
    public void Parse_ThresholdOutOfRange_IsAnError(string key, string value, string problem)
    {
        Assert.That(CheckErrors($$"""{"{{key}}":{{value}}}"""), Is.EqualTo(new[] { "Apps[0] \"a\": " + problem }));
    }

    [TestCase("Send", "\"\"", "\"HealthCheck.Send\" is empty (leave it out to send nothing)")]
    [TestCase("Expect", "\"\"", "\"HealthCheck.Expect\" is empty (leave it out to read nothing)")]
    [TestCase("Send", "5", "\"HealthCheck.Send\" must be a string, got 5")]
    [TestCase("Expect", "null", "\"HealthCheck.Expect\" must be a string, got null")]
    public void Parse_BadSendOrExpect_IsAnError(string key, string value, string problem)
    {
        Assert.That(CheckErrors($$"""{"{{key}}":{{value}}}"""), Is.EqualTo(new[] { "Apps[0] \"a\": " + problem }));
    }

    [Test]
    public void Parse_ManyHealthCheckProblems_ReportsEveryOne()
    {
        var errors = CheckErrors("""{"Interval":"1ms","Timeout":"x","HealthyThreshold":0,"UnhealthyThreshold":0,"Send":"","Expect":1,"Probe":"?"}""");

        Assert.That(errors, Has.Count.EqualTo(7));
    }

    [Test]
    public void Parse_NoPassiveHealth_IsOnWithDefaults()
    {
        var passive = App("").PassiveHealth;

        Assert.That(passive, Is.EqualTo(PassiveHealthConfig.Default));
        Assert.That(passive, Is.EqualTo(new PassiveHealthConfig(true, 3, TimeSpan.FromSeconds(5), TimeSpan.FromMinutes(2))));
    }

    [TestCase("\"on\"", true)]
    [TestCase("true", true)]
    [TestCase("{}", true)]
    [TestCase("\"off\"", false)]
    [TestCase("\"Off\"", false)]
    [TestCase("false", false)]
    public void Parse_PassiveHealthSwitch_GivesDefaultOrOff(string value, bool on)
    {
        Assert.That(Passive(value), Is.EqualTo(on ? PassiveHealthConfig.Default : PassiveHealthConfig.Off));
    }

    [Test]
    public void Parse_PassiveHealthObject_IsApplied()
    {
        Assert.That(Passive("""{"ConsecutiveFailures":1000,"BaseEjection":"250ms","MaxEjection":"576h"}"""),
            Is.EqualTo(new PassiveHealthConfig(true, 1000, TimeSpan.FromMilliseconds(250), TimeSpan.FromHours(576))));
    }

    [Test]
    public void Parse_PassiveHealthObjectWithSomeKeys_TakesTheRestFromDefault()
    {
        Assert.That(Passive("""{"consecutivefailures":1}"""), Is.EqualTo(PassiveHealthConfig.Default with { ConsecutiveFailures = 1 }));
    }

    [Test]
    public void Parse_EqualBaseAndMaxEjection_IsAccepted()
    {
        Assert.That(Passive("""{"BaseEjection":"1m","MaxEjection":"1m"}""").MaxEjection, Is.EqualTo(TimeSpan.FromMinutes(1)));
    }

    [TestCase("null")]
    [TestCase("5")]
    [TestCase("\"maybe\"")]
    public void Parse_PassiveHealthOfWrongKind_IsAnError(string value)
    {
        Assert.That(PassiveErrors(value), Is.EqualTo(new[]
        {
            $"Apps[0] \"a\": \"PassiveHealth\" must be \"on\", \"off\", true, false or an object like {{\"ConsecutiveFailures\": 3, \"BaseEjection\": \"5s\", \"MaxEjection\": \"2m\"}}, got {value}",
        }));
    }

    [Test]
    public void Parse_MisspeltPassiveHealthKey_SuggestsTheKnownKey()
    {
        Assert.That(PassiveErrors("""{"MaxEjections":"1m"}"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": unknown key \"MaxEjections\" in \"PassiveHealth\" (did you mean \"MaxEjection\"?)" }));
    }

    [TestCase("0", "\"PassiveHealth.ConsecutiveFailures\": 0 is outside 1..1000")]
    [TestCase("1001", "\"PassiveHealth.ConsecutiveFailures\": 1001 is outside 1..1000")]
    [TestCase("\"3\"", "\"PassiveHealth.ConsecutiveFailures\" must be an integer, got \"3\"")]
    public void Parse_BadConsecutiveFailures_IsAnError(string value, string problem)
    {
        Assert.That(PassiveErrors($$"""{"ConsecutiveFailures":{{value}}}"""), Is.EqualTo(new[] { "Apps[0] \"a\": " + problem }));
    }

    [TestCase("BaseEjection", "\"0s\"", "is not a duration " + DurationHint)]
    [TestCase("MaxEjection", "\"1.5m\"", "is not a duration " + DurationHint)]
    [TestCase("MaxEjection", "\"577h\"", "is too long (at most 576h)")]
    public void Parse_BadEjectionTime_IsAnError(string key, string value, string problem)
    {
        Assert.That(PassiveErrors($$"""{"{{key}}":{{value}}}"""), Is.EqualTo(new[] { $"Apps[0] \"a\": \"PassiveHealth.{key}\": {value} {problem}" }));
    }

    [Test]
    public void Parse_EjectionTimesOverTheTimerLimit_AreEachReported()
    {
        Assert.That(PassiveErrors("""{"BaseEjection":"577h","MaxEjection":"577h"}"""), Is.EqualTo(new[]
        {
            "Apps[0] \"a\": \"PassiveHealth.BaseEjection\": \"577h\" is too long (at most 576h)",
            "Apps[0] \"a\": \"PassiveHealth.MaxEjection\": \"577h\" is too long (at most 576h)",
        }));
    }

    [Test]
    public void Parse_MaxEjectionShorterThanBase_SaysWhy()
    {
        Assert.That(PassiveErrors("""{"BaseEjection":"10s","MaxEjection":"5s"}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"PassiveHealth.BaseEjection\": \"10s\" is longer than \"MaxEjection\" (5s): {EjectionWhy}" }));
    }

    [Test]
    public void Parse_BaseEjectionLongerThanDefaultMax_SaysItIsTheDefault()
    {
        Assert.That(PassiveErrors("""{"BaseEjection":"5m"}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"PassiveHealth.BaseEjection\": \"5m\" is longer than \"MaxEjection\" (2m, the default): {EjectionWhy}" }));
    }

    [Test]
    public void Parse_MaxEjectionShorterThanDefaultBase_SaysItIsTheDefault()
    {
        Assert.That(PassiveErrors("""{"MaxEjection":"1s"}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"PassiveHealth.MaxEjection\": \"1s\" is shorter than \"BaseEjection\" (5s, the default): {EjectionWhy}" }));
    }
}

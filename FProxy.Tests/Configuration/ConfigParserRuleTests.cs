using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Health;

namespace FProxy.Tests.Configuration;

/// <summary>The <c>"Rules"</c> and <c>"SniTimeout"</c> keys.</summary>
public sealed class ConfigParserRuleTests
{
    private const string DurationHint = "(expected a positive integer followed by ms, s, m or h, e.g. \"250ms\", \"5s\", \"1m\")";
    private const string MatchShape = "{\"SourceCidrs\": [\"10.0.0.0/8\"], \"Ports\": [443], \"Sni\": [\"*.example.com\"]}";

    /// <summary>App "web" on ports 5001 and 5002 with target "h:1" and the given rules (JSON array).</summary>
    private static AppConfig App(string rules, ConfigSchema? schema = null) =>
        ConfigParser.Parse($$"""{"Apps":[{"Name":"web","Ports":[5001,5002],"Targets":["h:1"],"Rules":{{rules}}}]}""", "config", schema).Apps[0];

    private static IReadOnlyList<string> Errors(string rules) => Assert.Throws<ConfigException>(() => App(rules))!.Errors;

    /// <summary>The errors of one rule <c>{"Match": match, "Targets": ["r:1"]}</c>.</summary>
    private static IReadOnlyList<string> MatchErrors(string match) => Errors($$"""[{"Match":{{match}},"Targets":["r:1"]}]""");

    private static AppConfig WithSniTimeout(string value) =>
        ConfigParser.Parse($$"""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"],"SniTimeout":{{value}}}]}""").Apps[0];

    [Test]
    public void Parse_NoRules_GivesNone()
    {
        var app = ConfigParser.Parse("""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"]}]}""").Apps[0];

        Assert.That(app.Rules, Is.Empty);
    }

    [Test]
    public void Parse_EmptyRules_GivesNone()
    {
        Assert.That(App("[]").Rules, Is.Empty);
    }

    [Test]
    public void Parse_RuleWithEveryCriterion_ReadsItNormalized()
    {
        var rule = App("""
            [{"Match":{"SourceCidrs":["10.0.0.0/8","FD00:0:0::/16","192.168.1.7"],"Ports":[5002],"Sni":["*.Example.COM","api.example.org"]},
              "Targets":["r:1",{"Address":"s:1","Weight":4}],
              "Strategy":"weightedroundrobin"}]
            """).Rules.Single();

        Assert.Multiple(() =>
        {
            Assert.That(rule.Match.SourceCidrs, Is.EqualTo(new[] { "10.0.0.0/8", "fd00::/16", "192.168.1.7/32" }));
            Assert.That(rule.Match.Ports, Is.EqualTo(new[] { 5002 }));
            Assert.That(rule.Match.Sni, Is.EqualTo(new[] { "*.example.com", "api.example.org" }));
            Assert.That(rule.Targets, Is.EqualTo(new[] { new TargetConfig("r", 1), new TargetConfig("s", 1) { Weight = 4 } }));
            Assert.That(rule.Strategy, Is.EqualTo(StrategyRegistry.WeightedRoundRobin));
        });
    }

    [Test]
    public void Parse_RuleWithOneCriterion_LeavesTheOthersEmpty()
    {
        var match = App("""[{"Match":{"Sni":["a.example.com"]},"Targets":["r:1"]}]""").Rules[0].Match;

        Assert.That(match.SourceCidrs, Is.Empty);
        Assert.That(match.Ports, Is.Empty);
        Assert.That(match.Sni, Is.EqualTo(new[] { "a.example.com" }));
    }

    [TestCase("")]
    [TestCase(",\"Strategy\":null")]
    public void Parse_RuleWithoutStrategy_UsesTheAppsStrategy(string strategy)
    {
        var rule = App($$"""[{"Match":{"Ports":[5001]},"Targets":["r:1"]{{strategy}}}]""").Rules[0];

        Assert.That(rule.Strategy, Is.Null);
    }

    [Test]
    public void Parse_RuleKeysInAnyCase_AreRecognized()
    {
        var rule = App("""[{"match":{"sourcecidrs":["10.0.0.0/8"],"PORTS":[5001],"sNi":["a.b"]},"TARGETS":["r:1"],"strategy":"random"}]""").Rules[0];

        Assert.That(rule, Is.EqualTo(new RuleConfig
        {
            Match = new MatchConfig
            {
                SourceCidrs = new EquatableList<string>(["10.0.0.0/8"]),
                Ports = new EquatableList<int>([5001]),
                Sni = new EquatableList<string>(["a.b"]),
            },
            Targets = new EquatableList<TargetConfig>([new TargetConfig("r", 1)]),
            Strategy = "Random",
        }));
    }

    [Test]
    public void Parse_SeveralRules_KeepFileOrder()
    {
        var app = App("""[{"Match":{"Ports":[5002]},"Targets":["two:1"]},{"Match":{"Ports":[5001]},"Targets":["one:1"]}]""");

        Assert.That(app.Rules.Select(r => r.Targets[0].Host), Is.EqualTo(new[] { "two", "one" }));
    }

    [Test]
    public void Parse_TargetInBothRuleAndApp_IsAllowed()
    {
        Assert.That(App("""[{"Match":{"Ports":[5001]},"Targets":["h:1"]}]""").Rules[0].Targets[0], Is.EqualTo(new TargetConfig("h", 1)));
    }

    [Test]
    public void Parse_SameRulesTwice_GivesEqualSnapshots()
    {
        const string rules = """[{"Match":{"SourceCidrs":["10.0.0.0/8"],"Sni":["*.a.b"]},"Targets":[{"Address":"r:1","Weight":2}],"Strategy":"Random"}]""";

        Assert.That(App(rules), Is.EqualTo(App(rules.Replace(",", ", ", StringComparison.Ordinal))));
    }

    [Test]
    public void Parse_CustomSchema_AcceptsItsStrategyInARule()
    {
        var schema = new ConfigSchema([.. StrategyRegistry.BuiltInNames, "Sticky"], ProbeRegistry.BuiltInNames);

        Assert.That(App("""[{"Match":{"Ports":[5001]},"Targets":["r:1"],"Strategy":"STICKY"}]""", schema).Rules[0].Strategy, Is.EqualTo("Sticky"));
    }

    [TestCase("5")]
    [TestCase("{}")]
    [TestCase("null")]
    public void Parse_RulesNotAnArray_IsAnError(string rules)
    {
        Assert.That(Errors(rules), Is.EqualTo(new[]
        {
            $"Apps[0] \"web\": \"Rules\" must be an array of rules like {{\"Match\": {{\"Sni\": [\"*.example.com\"]}}, \"Targets\": [\"host:port\"]}}, got {rules}",
        }));
    }

    [Test]
    public void Parse_RuleNotAnObject_IsAnError()
    {
        Assert.That(Errors("""[{"Match":{"Ports":[5001]},"Targets":["r:1"]},"x"]"""),
            Is.EqualTo(new[] { "Apps[0] \"web\": Rules[1]: must be an object, got \"x\"" }));
    }

    [Test]
    public void Parse_MisspeltRuleKey_SuggestsTheKnownKey()
    {
        Assert.That(Errors("""[{"Match":{"Ports":[5001]},"Targets":["r:1"],"Stratgy":"Random"}]"""),
            Is.EqualTo(new[] { "Apps[0] \"web\": Rules[0]: unknown key \"Stratgy\" (did you mean \"Strategy\"?)" }));
    }

    [Test]
    public void Parse_RuleWithoutMatch_IsAnError()
    {
        Assert.That(Errors("""[{"Targets":["r:1"]}]"""), Is.EqualTo(new[] { "Apps[0] \"web\": Rules[0]: missing \"Match\"" }));
    }

    [TestCase("[]")]
    [TestCase("\"*.example.com\"")]
    [TestCase("null")]
    public void Parse_MatchNotAnObject_IsAnError(string match)
    {
        Assert.That(MatchErrors(match),
            Is.EqualTo(new[] { $"Apps[0] \"web\": Rules[0]: \"Match\" must be an object like {MatchShape}, got {match}" }));
    }

    [Test]
    public void Parse_EmptyMatch_IsAnError()
    {
        Assert.That(MatchErrors("{}"), Is.EqualTo(new[]
        {
            "Apps[0] \"web\": Rules[0]: \"Match\" has no criterion (give at least one of \"SourceCidrs\", \"Ports\" or \"Sni\")",
        }));
    }

    [Test]
    public void Parse_MatchWithOnlyAMisspeltKey_ReportsTheKeyAndTheMissingCriterion()
    {
        Assert.That(MatchErrors("""{"Port":[5001]}"""), Is.EqualTo(new[]
        {
            "Apps[0] \"web\": Rules[0].Match: unknown key \"Port\" (did you mean \"Ports\"?)",
            "Apps[0] \"web\": Rules[0]: \"Match\" has no criterion (give at least one of \"SourceCidrs\", \"Ports\" or \"Sni\")",
        }));
    }

    [TestCase("SourceCidrs")]
    [TestCase("Ports")]
    [TestCase("Sni")]
    public void Parse_EmptyMatchList_IsAnError(string key)
    {
        Assert.That(MatchErrors($$"""{"{{key}}":[]}"""), Is.EqualTo(new[] { $"Apps[0] \"web\": Rules[0].Match: \"{key}\" is empty" }));
    }

    [TestCase("SourceCidrs", "\"10.0.0.0/8\"", "an array of strings like \"10.0.0.0/8\"")]
    [TestCase("Ports", "5001", "an array of integers")]
    [TestCase("Sni", "\"a.example.com\"", "an array of strings like \"*.example.com\"")]
    public void Parse_MatchListNotAnArray_IsAnError(string key, string value, string expected)
    {
        Assert.That(MatchErrors($$"""{"{{key}}":{{value}}}"""),
            Is.EqualTo(new[] { $"Apps[0] \"web\": Rules[0].Match: \"{key}\" must be {expected}, got {value}" }));
    }

    [Test]
    public void Parse_MatchPortNotTheAppsPort_NamesThePortAndTheAppsPorts()
    {
        Assert.That(MatchErrors("""{"Ports":[5001,5003]}"""), Is.EqualTo(new[]
        {
            "Apps[0] \"web\": Rules[0].Match.Ports[1]: port 5003 is not one of this app's ports (5001, 5002)",
        }));
    }

    [TestCase("70000")]
    [TestCase("0")]
    public void Parse_MatchPortOutOfRange_IsNotTheAppsPort(string port)
    {
        Assert.That(MatchErrors($$"""{"Ports":[{{port}}]}"""), Is.EqualTo(new[]
        {
            $"Apps[0] \"web\": Rules[0].Match.Ports[0]: port {port} is not one of this app's ports (5001, 5002)",
        }));
    }

    [TestCase("\"5001\"")]
    [TestCase("5001.5")]
    public void Parse_MatchPortNotAnInteger_IsAnError(string port)
    {
        Assert.That(MatchErrors($$"""{"Ports":[{{port}}]}"""),
            Is.EqualTo(new[] { $"Apps[0] \"web\": Rules[0].Match.Ports[0]: expected an integer port, got {port}" }));
    }

    [TestCase("\"70000\"", "\"Ports\" must be an array of ports and port ranges like [5001, \"6000-6099\"], got \"70000\"")]
    [TestCase("[70000]", "Ports[0]: port 70000 is outside 1..65535")]
    public void Parse_AppPortsInvalid_RulePortsAreNotCheckedAgainstThem(string ports, string problem)
    {
        var errors = Assert.Throws<ConfigException>(() => ConfigParser.Parse($$"""
            {"Apps":[{"Name":"a","Ports":{{ports}},"Targets":["h:1"],"Rules":[{"Match":{"Ports":[70000]},"Targets":["r:1"]}]}]}
            """))!.Errors;

        Assert.That(errors, Is.EqualTo(new[] { "Apps[0] \"a\": " + problem }));
    }

    [Test]
    public void Parse_SourceCidrWithHostBitsSet_GivesTheNetworkAddress()
    {
        var errors = Errors("""
            [{"Match":{"Ports":[5001]},"Targets":["r:1"]},
             {"Match":{"SourceCidrs":["10.0.0.1/8"]},"Targets":["r:1"]}]
            """);

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Apps[0] \"web\": Rules[1].Match.SourceCidrs[0]: \"10.0.0.1/8\" has host bits set: the network address is 10.0.0.0/8",
        }));
    }

    [TestCase("10.0.0.0/33", "\"10.0.0.0/33\" has an invalid prefix length (expected 0 to 32 for an IPv4 address)")]
    [TestCase("fd00::/129", "\"fd00::/129\" has an invalid prefix length (expected 0 to 128 for an IPv6 address)")]
    [TestCase("10.0.0.0/x", "\"10.0.0.0/x\" has an invalid prefix length (expected 0 to 32 for an IPv4 address)")]
    [TestCase("nope", "\"nope\" is not a valid CIDR range (expected an address or address/prefix, e.g. 10.0.0.0/8 or fd00::/8)")]
    [TestCase("10.1/16", "\"10.1/16\" is not a valid CIDR range (expected an address or address/prefix, e.g. 10.0.0.0/8 or fd00::/8)")]
    [TestCase("", "\"\" is not a valid CIDR range (expected an address or address/prefix, e.g. 10.0.0.0/8 or fd00::/8)")]
    public void Parse_BadSourceCidr_ExplainsTheProblem(string cidr, string problem)
    {
        Assert.That(MatchErrors($$"""{"SourceCidrs":["10.0.0.0/8","{{cidr}}"]}"""),
            Is.EqualTo(new[] { $"Apps[0] \"web\": Rules[0].Match.SourceCidrs[1]: {problem}" }));
    }

    [Test]
    public void Parse_SourceCidrNotAString_IsAnError()
    {
        Assert.That(MatchErrors("""{"SourceCidrs":[10]}"""),
            Is.EqualTo(new[] { "Apps[0] \"web\": Rules[0].Match.SourceCidrs[0]: expected a string like \"10.0.0.0/8\", got 10" }));
    }

    [TestCase("*")]
    [TestCase("*.")]
    [TestCase("a.*.example.com")]
    [TestCase("10.0.0.1")]
    [TestCase("-a.example.com")]
    [TestCase("a_b.example.com")]
    [TestCase("example.com.")]
    [TestCase("")]
    public void Parse_BadSniPattern_IsAnError(string pattern)
    {
        Assert.That(MatchErrors($$"""{"Sni":["{{pattern}}"]}"""), Is.EqualTo(new[]
        {
            $"Apps[0] \"web\": Rules[0].Match.Sni[0]: \"{pattern}\" is not a valid SNI pattern (expected a host name or *.example.com)",
        }));
    }

    [Test]
    public void Parse_SniPatternNotAString_IsAnError()
    {
        Assert.That(MatchErrors("""{"Sni":[null]}"""),
            Is.EqualTo(new[] { "Apps[0] \"web\": Rules[0].Match.Sni[0]: expected a string like \"*.example.com\", got null" }));
    }

    [Test]
    public void Parse_RuleWithoutTargets_IsAnError()
    {
        Assert.That(Errors("""[{"Match":{"Ports":[5001]}}]"""), Is.EqualTo(new[] { "Apps[0] \"web\": Rules[0]: missing \"Targets\"" }));
    }

    [Test]
    public void Parse_RuleWithEmptyTargets_IsAnError()
    {
        Assert.That(Errors("""[{"Match":{"Ports":[5001]},"Targets":[]}]"""), Is.EqualTo(new[] { "Apps[0] \"web\": Rules[0]: \"Targets\" is empty" }));
    }

    [Test]
    public void Parse_BadRuleTarget_NamesItsPlace()
    {
        Assert.That(Errors("""[{"Match":{"Ports":[5001]},"Targets":["r:1",{"Address":"x:0"},{"Address":"r:2","Weight":0}]}]"""), Is.EqualTo(new[]
        {
            "Apps[0] \"web\": Rules[0].Targets[1]: \"x:0\" has an invalid port (expected 1..65535)",
            "Apps[0] \"web\": Rules[0].Targets[2]: \"Weight\": 0 is outside 1..1000",
        }));
    }

    [Test]
    public void Parse_RuleTargetListedTwice_NamesItAndWhereItWasFirst()
    {
        Assert.That(Errors("""[{"Match":{"Ports":[5001]},"Targets":["r:1","R:1"]}]"""),
            Is.EqualTo(new[] { "Apps[0] \"web\": Rules[0].Targets[1]: \"R:1\" is already listed as Rules[0].Targets[0]" }));
    }

    [Test]
    public void Parse_UnknownRuleStrategy_ListsTheValidOnes()
    {
        Assert.That(Errors("""[{"Match":{"Ports":[5001]},"Targets":["r:1"],"Strategy":"ConsistantHash"}]"""), Is.EqualTo(new[]
        {
            "Apps[0] \"web\": Rules[0]: \"Strategy\": unknown strategy \"ConsistantHash\" (did you mean \"ConsistentHash\"?); "
                + "valid strategies: RoundRobin, Random, LeastConnections, PowerOfTwoChoices, WeightedRoundRobin, ConsistentHash",
        }));
    }

    [Test]
    public void Parse_ManyProblemsInRules_ReportsEveryOne()
    {
        var errors = Errors("""
            [{"Match":{"SourceCidrs":["10.0.0.1/8"],"Ports":[80],"Sni":["*"]},"Targets":["x:0"],"Strategy":"Fastest"},
             {"Match":{},"Targets":[]}]
            """);

        Assert.That(errors, Has.Count.EqualTo(7));
        Assert.That(errors, Has.Some.StartWith("Apps[0] \"web\": Rules[0].Match.SourceCidrs[0]: "));
        Assert.That(errors, Has.Some.StartWith("Apps[0] \"web\": Rules[0].Match.Ports[0]: "));
        Assert.That(errors, Has.Some.StartWith("Apps[0] \"web\": Rules[0].Match.Sni[0]: "));
        Assert.That(errors, Has.Some.StartWith("Apps[0] \"web\": Rules[0].Targets[0]: "));
        Assert.That(errors, Has.Some.StartWith("Apps[0] \"web\": Rules[0]: \"Strategy\": "));
        Assert.That(errors, Has.Some.StartWith("Apps[0] \"web\": Rules[1]: \"Match\" has no criterion"));
        Assert.That(errors, Has.Some.EqualTo("Apps[0] \"web\": Rules[1]: \"Targets\" is empty"));
    }

    [Test]
    public void Parse_NoSniTimeout_UsesOneSecond()
    {
        var app = ConfigParser.Parse("""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"]}]}""").Apps[0];

        Assert.That(app.SniTimeout, Is.EqualTo(TimeSpan.FromSeconds(1)).And.EqualTo(AppConfig.DefaultSniTimeout));
    }

    [TestCase("\"250ms\"", 250)]
    [TestCase("\"576h\"", 576 * 3600 * 1000L)]
    public void Parse_SniTimeout_IsApplied(string value, long milliseconds)
    {
        Assert.That(WithSniTimeout(value).SniTimeout, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Test]
    public void Parse_SniTimeoutKeyInAnyCase_IsRecognized()
    {
        var app = ConfigParser.Parse("""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"],"snitimeout":"2s"}]}""").Apps[0];

        Assert.That(app.SniTimeout, Is.EqualTo(TimeSpan.FromSeconds(2)));
    }

    [TestCase("\"0s\"")]
    [TestCase("\"-1s\"")]
    [TestCase("1")]
    [TestCase("null")]
    public void Parse_SniTimeoutNotAPositiveDuration_IsAnError(string value)
    {
        Assert.That(Assert.Throws<ConfigException>(() => WithSniTimeout(value))!.Errors,
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"SniTimeout\": {value} is not a duration {DurationHint}" }));
    }

    [Test]
    public void Parse_SniTimeoutOverTheTimerLimit_IsAnError()
    {
        Assert.That(Assert.Throws<ConfigException>(() => WithSniTimeout("\"577h\""))!.Errors,
            Is.EqualTo(new[] { "Apps[0] \"a\": \"SniTimeout\": \"577h\" is too long (at most 576h)" }));
    }

    [Test]
    public void Parse_TargetWithAnotherWeightInARule_IsAnError()
    {
        var json = """
            {"Apps":[{"Name":"a","Ports":[5001],"Targets":[{"Address":"b:1","Weight":2}],
              "Rules":[{"Match":{"Ports":[5001]},"Targets":["B:1"]}]}]}
            """;
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse(json))!;
        Assert.That(e.Errors, Is.EqualTo(new[]
        {
            "Apps[0] \"a\": Rules[0].Targets[0]: \"B:1\" has weight 1 here but 2 in Targets[0] (a target has one weight per app)",
        }));
    }

    [Test]
    public void Parse_TargetWithTheSameWeightInARule_IsAccepted()
    {
        var json = """
            {"Apps":[{"Name":"a","Ports":[5001],"Targets":[{"Address":"b:1","Weight":2}],
              "Rules":[{"Match":{"Ports":[5001]},"Targets":[{"Address":"b:1","Weight":2}]}]}]}
            """;
        Assert.That(ConfigParser.Parse(json).Apps[0].Rules[0].Targets[0].Weight, Is.EqualTo(2));
    }
}

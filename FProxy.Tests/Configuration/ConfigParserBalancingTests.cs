using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Health;

namespace FProxy.Tests.Configuration;

/// <summary>The <c>"Strategy"</c> key, weighted targets, and names checked against a <see cref="ConfigSchema"/>.</summary>
public sealed class ConfigParserBalancingTests
{
    private const string ValidStrategies =
        "valid strategies: RoundRobin, Random, LeastConnections, PowerOfTwoChoices, WeightedRoundRobin, ConsistentHash";

    /// <summary>The built-ins plus a custom strategy and probe, as a daemon with registrations would have.</summary>
    private static readonly ConfigSchema Custom =
        new([.. StrategyRegistry.BuiltInNames, "Sticky"], [.. ProbeRegistry.BuiltInNames, "redis"]);

    /// <summary>App "a" on port 5001 with target "h:1", <paramref name="extra"/> added to its keys.</summary>
    private static AppConfig App(string extra, ConfigSchema? schema = null) =>
        ConfigParser.Parse($$"""{"Apps":[{"Name":"a","Ports":[5001],"Targets":["h:1"]{{extra}}}]}""", "config", schema).Apps[0];

    private static IReadOnlyList<string> AppErrors(string extra, ConfigSchema? schema = null) =>
        Assert.Throws<ConfigException>(() => App(extra, schema))!.Errors;

    /// <summary>App "a" on port 5001 with the given targets (JSON array).</summary>
    private static AppConfig WithTargets(string targets) =>
        ConfigParser.Parse($$"""{"Apps":[{"Name":"a","Ports":[5001],"Targets":{{targets}}}]}""").Apps[0];

    private static IReadOnlyList<string> TargetErrors(string targets) =>
        Assert.Throws<ConfigException>(() => WithTargets(targets))!.Errors;

    [Test]
    public void Parse_NoStrategy_UsesRoundRobin()
    {
        Assert.That(App("").Strategy, Is.EqualTo("RoundRobin").And.EqualTo(AppConfig.DefaultStrategy));
    }

    [Test]
    public void Parse_NullStrategy_UsesRoundRobin()
    {
        Assert.That(App(""","Strategy":null""").Strategy, Is.EqualTo(AppConfig.DefaultStrategy));
    }

    [TestCase("RoundRobin")]
    [TestCase("Random")]
    [TestCase("LeastConnections")]
    [TestCase("PowerOfTwoChoices")]
    [TestCase("WeightedRoundRobin")]
    [TestCase("ConsistentHash")]
    public void Parse_BuiltInStrategy_IsAccepted(string strategy)
    {
        Assert.That(App($$""","Strategy":"{{strategy}}" """).Strategy, Is.EqualTo(strategy));
    }

    [TestCase("leastconnections", "LeastConnections")]
    [TestCase("POWEROFTWOCHOICES", "PowerOfTwoChoices")]
    [TestCase("weightedRoundRobin", "WeightedRoundRobin")]
    public void Parse_StrategyInAnyCase_StoresTheRegisteredSpelling(string written, string stored)
    {
        Assert.That(App($$""","strategy":"{{written}}" """).Strategy, Is.EqualTo(stored));
    }

    [Test]
    public void Parse_UnknownStrategy_ListsTheValidOnes()
    {
        Assert.That(AppErrors(""","Strategy":"Fastest" """),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"Strategy\": unknown strategy \"Fastest\"; {ValidStrategies}" }));
    }

    [TestCase("RoundRobbin", "RoundRobin")]
    [TestCase("LeastConnection", "LeastConnections")]
    [TestCase("Randon", "Random")]
    public void Parse_MisspeltStrategy_SuggestsTheClosest(string written, string hint)
    {
        Assert.That(AppErrors($$""","Strategy":"{{written}}" """), Is.EqualTo(new[]
        {
            $"Apps[0] \"a\": \"Strategy\": unknown strategy \"{written}\" (did you mean \"{hint}\"?); {ValidStrategies}",
        }));
    }

    [TestCase("5")]
    [TestCase("[\"Random\"]")]
    [TestCase("true")]
    public void Parse_StrategyNotAString_IsAnError(string value)
    {
        Assert.That(AppErrors($$""","Strategy":{{value}}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"Strategy\" must be a string, got {value}; {ValidStrategies}" }));
    }

    [Test]
    public void Parse_CustomSchema_AcceptsItsOwnStrategyInAnyCase()
    {
        Assert.That(App(""","Strategy":"sticky" """, Custom).Strategy, Is.EqualTo("Sticky"));
    }

    [Test]
    public void Parse_DefaultSchema_RejectsACustomStrategy()
    {
        Assert.That(AppErrors(""","Strategy":"Sticky" """),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"Strategy\": unknown strategy \"Sticky\"; {ValidStrategies}" }));
    }

    [Test]
    public void Parse_CustomSchemaRejectsAName_ListsItsOwnNames()
    {
        Assert.That(AppErrors(""","Strategy":"Stick" """, Custom), Is.EqualTo(new[]
        {
            $"Apps[0] \"a\": \"Strategy\": unknown strategy \"Stick\" (did you mean \"Sticky\"?); {ValidStrategies}, Sticky",
        }));
    }

    [Test]
    public void Parse_SchemaWithNoStrategies_SaysNoneAreRegistered()
    {
        var empty = new ConfigSchema([], []);

        Assert.That(AppErrors(""","Strategy":"Random" """, empty),
            Is.EqualTo(new[] { "Apps[0] \"a\": \"Strategy\": unknown strategy \"Random\"; no strategies are registered" }));
    }

    [Test]
    public void Parse_StringTargets_HaveWeightOne()
    {
        var app = WithTargets("""["a:1","b:2"]""");

        Assert.That(app.Targets.Select(t => t.Weight), Is.EqualTo(new[] { 1, 1 }));
    }

    [Test]
    public void Parse_TargetObjects_CarryAddressAndWeight()
    {
        var app = WithTargets("""["a:1",{"Address":"b:1","Weight":3},{"Address":"[::1]:2"}]""");

        Assert.That(app.Targets, Is.EqualTo(new[]
        {
            new TargetConfig("a", 1),
            new TargetConfig("b", 1) { Weight = 3 },
            new TargetConfig("::1", 2),
        }));
    }

    [Test]
    public void Parse_TargetObjectKeysInAnyCase_AreRecognized()
    {
        var app = WithTargets("""[{"ADDRESS":"b:1","weight":2}]""");

        Assert.That(app.Targets, Is.EqualTo(new[] { new TargetConfig("b", 1) { Weight = 2 } }));
    }

    [TestCase(1)]
    [TestCase(TargetConfig.MaxWeight)]
    public void Parse_WeightAtTheLimits_IsAccepted(int weight)
    {
        Assert.That(WithTargets($$"""[{"Address":"b:1","Weight":{{weight}}}]""").Targets[0].Weight, Is.EqualTo(weight));
    }

    [TestCase("0", "\"Weight\": 0 is outside 1..1000")]
    [TestCase("1001", "\"Weight\": 1001 is outside 1..1000")]
    [TestCase("-1", "\"Weight\": -1 is outside 1..1000")]
    [TestCase("\"3\"", "\"Weight\" must be an integer, got \"3\"")]
    [TestCase("1.5", "\"Weight\" must be an integer, got 1.5")]
    [TestCase("null", "\"Weight\" must be an integer, got null")]
    public void Parse_BadWeight_IsAnError(string weight, string problem)
    {
        Assert.That(TargetErrors($$"""["a:1",{"Address":"b:1","Weight":{{weight}}}]"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": Targets[1]: {problem}" }));
    }

    [Test]
    public void Parse_TargetObjectWithoutAddress_IsAnError()
    {
        Assert.That(TargetErrors("""[{"Weight":2}]"""), Is.EqualTo(new[] { "Apps[0] \"a\": Targets[0]: missing \"Address\"" }));
    }

    [Test]
    public void Parse_TargetObjectAddressNotAString_IsAnError()
    {
        Assert.That(TargetErrors("""[{"Address":5}]"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": Targets[0]: \"Address\" must be a string like \"host:port\", got 5" }));
    }

    [TestCase("x:0", "\"x:0\" has an invalid port (expected 1..65535)")]
    [TestCase("localhost", "\"localhost\" has no port (expected host:port, 1.2.3.4:port or [::1]:port)")]
    [TestCase("::1:80", "\"::1:80\": an IPv6 address must be in brackets, e.g. \"[::1]:80\"")]
    public void Parse_TargetObjectWithBadAddress_GivesTheStringTargetError(string address, string problem)
    {
        Assert.That(TargetErrors($$"""[{"Address":"{{address}}","Weight":2}]"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": Targets[0]: {problem}" }));
    }

    [Test]
    public void Parse_MisspeltTargetObjectKey_SuggestsTheKnownKey()
    {
        Assert.That(TargetErrors("""[{"Address":"b:1","Wieght":2}]"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": Targets[0]: unknown key \"Wieght\" (did you mean \"Weight\"?)" }));
    }

    [Test]
    public void Parse_TargetObjectKeyGivenTwice_IsAnError()
    {
        Assert.That(TargetErrors("""[{"Address":"b:1","address":"c:1"}]"""), Is.EqualTo(new[]
        {
            "Apps[0] \"a\": Targets[0]: key \"address\" is given twice (also as \"Address\"; keys ignore case)",
        }));
    }

    [TestCase("[[\"h:1\"]]", "[\"h:1\"]")]
    [TestCase("[null]", "null")]
    [TestCase("[true]", "true")]
    public void Parse_TargetOfWrongKind_SaysBothFormsAreAccepted(string targets, string shown)
    {
        Assert.That(TargetErrors(targets), Is.EqualTo(new[]
        {
            $"Apps[0] \"a\": Targets[0]: expected \"host:port\" or an object like {{\"Address\": \"host:port\", \"Weight\": 2}}, got {shown}",
        }));
    }

    [Test]
    public void Parse_TargetListedTwice_NamesItAndWhereItWasFirst()
    {
        Assert.That(TargetErrors("""["h:1","b:2",{"Address":"H:1","Weight":2}]"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": Targets[2]: \"H:1\" is already listed as Targets[0]" }));
    }

    [Test]
    public void Parse_SameHostOnOtherPorts_IsNotARepeat()
    {
        Assert.That(WithTargets("""["h:1","h:2","[::1]:1","[::1]:2"]""").Targets, Has.Count.EqualTo(4));
    }

    [Test]
    public void Parse_WeightChangeOnly_GivesAnUnequalSnapshotWithTheSameKey()
    {
        var before = WithTargets("""[{"Address":"b:1","Weight":1}]""");
        var after = WithTargets("""[{"Address":"b:1","Weight":2}]""");

        Assert.That(after, Is.Not.EqualTo(before));
        Assert.That(after.Targets[0].Key, Is.EqualTo(before.Targets[0].Key));
    }
}

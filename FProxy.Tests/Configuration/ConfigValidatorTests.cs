using FProxy.Configuration;
using static FProxy.Tests.Infrastructure.TestConfigs;

namespace FProxy.Tests.Configuration;

/// <summary>
/// The rules every config source meets, checked on configs built in code: each broken rule is an
/// error naming its place, with the parser's message for the same mistake in a file.
/// </summary>
public sealed class ConfigValidatorTests
{
    [Test]
    public void Validate_ValidConfigBuiltInCode_NoErrors()
    {
        var config = Config(App("a", [7001, 7002], "127.0.0.1:9001", "backend.internal:9002"), App("b", [7003], "[::1]:9003"));

        Assert.That(ConfigValidator.Validate(config), Is.Empty);
    }

    [Test]
    public void Validate_ConfigWrittenWithCollectionExpressions_ReadsLikeItsJson()
    {
        var config = new ProxyConfig
        {
            Apps =
            [
                new AppConfig
                {
                    Name = "web",
                    Ports = [7001, 7002],
                    Targets = [new("10.0.0.1", 80), new("10.0.0.2", 80) { Weight = 2 }],
                    Rules = [new RuleConfig { Match = new MatchConfig { Sni = ["*.example.com"] }, Targets = [new("10.0.0.3", 443)] }],
                },
            ],
        };

        Assert.That(ConfigValidator.Validate(config), Is.Empty);
        Assert.That(config.Apps[0].Ports, Is.EqualTo(new EquatableList<int>([7001, 7002])));
        Assert.That(config, Is.EqualTo(ConfigParser.Parse(
            """{"Apps":[{"Name":"web","Ports":[7001,7002],"Targets":["10.0.0.1:80",{"Address":"10.0.0.2:80","Weight":2}],"Rules":[{"Match":{"Sni":["*.example.com"]},"Targets":["10.0.0.3:443"]}]}]}""")));
    }

    [Test]
    public void Validate_NoTargets_Error()
    {
        var config = Config(App("a", [7001]));

        Assert.That(ConfigValidator.Validate(config), Is.EqualTo(new[] { "Apps[0] \"a\": \"Targets\" is empty" }));
    }

    [Test]
    public void Validate_TwoAppsOnOnePort_ErrorNamesTheFirstOwner()
    {
        var config = Config(App("a", [7001], "127.0.0.1:9001"), App("b", [7002, 7001], "127.0.0.1:9001"));

        Assert.That(ConfigValidator.Validate(config), Is.EqualTo(new[] { "Apps[1] \"b\": port 7001 is already used by app \"a\"" }));
    }

    [TestCase(0)]
    [TestCase(70000)]
    [TestCase(-1)]
    public void Validate_PortOutOfRange_Error(int port)
    {
        var config = Config(App("a", [port], "127.0.0.1:9001"));

        Assert.That(ConfigValidator.Validate(config), Is.EqualTo(new[] { $"Apps[0] \"a\": Ports[0]: port {port} is outside 1..65535" }));
    }

    [Test]
    public void Validate_ManyMistakes_EveryErrorCollectedInConfigOrder()
    {
        var config = Config(
            App("a", [70000]) with { Strategy = "Sticky", Backlog = 0 },
            App("A", [7001, 7001], "127.0.0.1:0") with { ConnectTimeout = TimeSpan.Zero, MaxConnections = 0 },
            App(" ", [7002], "127.0.0.1:9001"));

        var errors = ConfigValidator.Validate(config);

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Apps[0] \"a\": Ports[0]: port 70000 is outside 1..65535",
            "Apps[0] \"a\": \"Targets\" is empty",
            "Apps[0] \"a\": \"Strategy\": unknown strategy \"Sticky\"; valid strategies: " + string.Join(", ", ConfigSchema.Default.Strategies),
            "Apps[0] \"a\": \"Backlog\": 0 is outside 1..65535",
            "Apps[1] \"A\": name \"A\" is already used by Apps[0]",
            "Apps[1] \"A\": port 7001 is listed twice",
            "Apps[1] \"A\": Targets[0]: " + ParserProblem("127.0.0.1:0"),
            "Apps[1] \"A\": \"ConnectTimeout\": 00:00:00 must be positive",
            "Apps[1] \"A\": \"MaxConnections\": 0 is outside 1..1000000",
            "Apps[2]: \"Name\" is empty",
        }));
    }

    [Test]
    public void Validate_TargetsAndWeights_Errors()
    {
        var app = App("a", [7001]) with
        {
            Targets = new EquatableList<TargetConfig>([Target("127.0.0.1:9001") with { Weight = 0 }, Target("127.0.0.1:9002"), Target("127.0.0.1:9002"), new TargetConfig("bad host", 80)]),
        };

        var errors = ConfigValidator.Validate(Config(app));

        Assert.That(errors, Has.Count.EqualTo(3));
        Assert.That(errors[0], Is.EqualTo("Apps[0] \"a\": Targets[0]: \"Weight\": 0 is outside 1..1000"));
        Assert.That(errors[1], Is.EqualTo("Apps[0] \"a\": Targets[2]: \"127.0.0.1:9002\" is already listed as Targets[1]"));
        Assert.That(errors[2], Is.EqualTo("Apps[0] \"a\": Targets[3]: " + ParserProblem("bad host:80")));
    }

    [Test]
    public void Validate_Rules_Errors()
    {
        var app = App("a", [7001], "127.0.0.1:9001") with
        {
            Rules = new EquatableList<RuleConfig>(
            [
                new RuleConfig { Match = new MatchConfig(), Targets = new EquatableList<TargetConfig>([Target("127.0.0.1:9002")]) },
                new RuleConfig
                {
                    Match = new MatchConfig { Ports = new EquatableList<int>([7002]), SourceCidrs = new EquatableList<string>(["10.0.0.0/99"]) },
                    Targets = EquatableList<TargetConfig>.Empty,
                    Strategy = "nope",
                },
                new RuleConfig { Match = new MatchConfig { Sni = new EquatableList<string>(["*.example.com"]) }, Targets = new EquatableList<TargetConfig>([Target("127.0.0.1:9001") with { Weight = 3 }]) },
            ]),
        };

        var errors = ConfigValidator.Validate(Config(app));

        Assert.That(errors, Has.Count.EqualTo(6));
        Assert.That(errors[0], Is.EqualTo("Apps[0] \"a\": Rules[0]: \"Match\" has no criterion (give at least one of \"SourceCidrs\", \"Ports\" or \"Sni\")"));
        Assert.That(errors[1], Does.StartWith("Apps[0] \"a\": Rules[1].Match.SourceCidrs[0]: "));
        Assert.That(errors[2], Is.EqualTo("Apps[0] \"a\": Rules[1].Match.Ports[0]: port 7002 is not one of this app's ports (7001)"));
        Assert.That(errors[3], Is.EqualTo("Apps[0] \"a\": Rules[1]: \"Targets\" is empty"));
        Assert.That(errors[4], Does.StartWith("Apps[0] \"a\": Rules[1]: \"Strategy\": unknown strategy \"nope\""));
        Assert.That(errors[5], Is.EqualTo("Apps[0] \"a\": Rules[2].Targets[0]: \"127.0.0.1:9001\" has weight 3 here but 1 in Targets[0] (a target has one weight per app)"));
    }

    [Test]
    public void Validate_TimingsAndHealth_Errors()
    {
        var app = App("a", [7001], "127.0.0.1:9001") with
        {
            KeepAlive = new KeepAliveConfig(true, TimeSpan.FromMilliseconds(1500), TimeSpan.FromSeconds(10), 6),
            IdleTimeout = TimeSpan.FromMilliseconds(10),
            DrainTimeout = TimeSpan.FromDays(30),
            HealthCheck = new HealthCheckConfig { Probe = "tcp", Send = "PING" },
            PassiveHealth = new PassiveHealthConfig(true, 3, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(1)),
        };

        var errors = ConfigValidator.Validate(Config(app));

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Apps[0] \"a\": \"DrainTimeout\": 720h is too long (at most 576h)",
            "Apps[0] \"a\": \"KeepAlive.Idle\": 00:00:01.5000000 must be whole seconds from 1s to 32767s (the kernel counts keepalive time in seconds)",
            "Apps[0] \"a\": \"HealthCheck.Probe\": \"tcp\" only connects, so \"Send\" would be ignored (use \"send-expect\", or leave \"Probe\" out)",
            "Apps[0] \"a\": \"PassiveHealth.BaseEjection\": 5m is longer than \"MaxEjection\" (1m): an ejection starts at \"BaseEjection\" and doubles up to \"MaxEjection\"",
            "Apps[0] \"a\": \"IdleTimeout\": 10ms is too short (at least 100ms: idle connections are checked a few times per IdleTimeout, which costs more the shorter it is)",
        }));
    }

    [Test]
    public void Validate_NullParts_ErrorsNotExceptions()
    {
        var app = App("a", [7001], "127.0.0.1:9001") with { KeepAlive = null!, PassiveHealth = null!, Rules = null!, Ports = null! };

        var errors = ConfigValidator.Validate(Config(app, null!));

        Assert.That(errors, Has.Count.EqualTo(5));
        Assert.That(errors, Has.One.EqualTo("Apps[0] \"a\": \"Ports\" is empty"));
        Assert.That(errors, Has.One.EqualTo("Apps[1]: is null"));
    }

    // Found by fuzzing (ConfigFuzzTests, records built in code): the constructor of a target threw
    // before the validator could say what is wrong, ArgumentOutOfRangeException for an IP literal
    // with a port out of range (it made an IPEndPoint), NullReferenceException without a host.
    [Test]
    public void Validate_TargetsTheConstructorThrewOn_Errors()
    {
        var app = App("a", [7001]) with { Targets = new EquatableList<TargetConfig>([new TargetConfig("10.0.0.1", 70000), new TargetConfig(null!, 80)]) };

        Assert.That(ConfigValidator.Validate(Config(app)), Is.EqualTo(new[]
        {
            "Apps[0] \"a\": Targets[0]: \"10.0.0.1:70000\" has an invalid port (expected 1..65535)",
            "Apps[0] \"a\": Targets[1]: the host is missing",
        }));
    }

    [Test]
    public void DefaultSchema_NamesTheRegistriesBuiltIns()
    {
        Assert.That(ConfigSchema.Default.Strategies, Is.EqualTo(FProxy.Balancing.StrategyRegistry.BuiltInNames));
        Assert.That(ConfigSchema.Default.Probes, Is.EqualTo(FProxy.Health.ProbeRegistry.BuiltInNames));
    }

    [Test]
    public void Validate_CustomSchema_KnowsItsStrategiesAndProbes()
    {
        var app = App("a", [7001], "127.0.0.1:9001") with { Strategy = "sticky", HealthCheck = new HealthCheckConfig { Probe = "redis" } };
        var schema = new ConfigSchema([.. ConfigSchema.Default.Strategies, "Sticky"], [.. ConfigSchema.Default.Probes, "redis"]);

        Assert.That(ConfigValidator.Validate(Config(app), schema), Is.Empty);
        Assert.That(ConfigValidator.Validate(Config(app)), Has.Count.EqualTo(2));
    }

    [Test]
    public void ThrowIfInvalid_Invalid_ConfigExceptionWithSourceAndEveryError()
    {
        var config = Config(App("a", [70000]));

        var e = Assert.Throws<ConfigException>(() => ConfigValidator.ThrowIfInvalid(config, "my-source"))!;

        Assert.That(e.Errors, Has.Count.EqualTo(2));
        Assert.That(e.Message, Does.StartWith("my-source: 2 errors:"));
    }

    /// <summary>The same mistake in a file and in code gets the same message.</summary>
    [TestCase("""{"Apps":[{"Name":"a","Ports":[7001],"Targets":["127.0.0.1:9001"]},{"Name":"b","Ports":[7001],"Targets":["127.0.0.1:9001"]}]}""")]
    [TestCase("""{"Apps":[{"Name":"a","Ports":[70000],"Targets":["127.0.0.1:9001"]}]}""")]
    [TestCase("""{"Apps":[{"Name":"a","Ports":[7001],"Targets":["127.0.0.1:9001"],"Strategy":"RoundRobn"}]}""")]
    [TestCase("""{"Apps":[{"Name":"a","Ports":[7001],"Targets":["127.0.0.1:9001"]},{"Name":"A","Ports":[7002],"Targets":["127.0.0.1:9001"]}]}""")]
    [TestCase("""{"Apps":[{"Name":"a","Ports":[7001],"Targets":["127.0.0.1:9001"],"HealthCheck":{"Probe":"send-expect"}}]}""")]
    [TestCase("""{"Apps":[{"Name":"a","Ports":[7001],"Targets":["127.0.0.1:9001"],"Rules":[{"Match":{"Ports":[7002]},"Targets":["127.0.0.1:9002"]}]}]}""")]
    public void Validate_SameMistakeAsInAFile_SameMessage(string json)
    {
        var fromFile = Assert.Throws<ConfigException>(() => ConfigParser.Parse(json))!.Errors;
        var inCode = ConfigValidator.Validate(CodeEquivalent(json));

        Assert.That(inCode, Is.EqualTo(fromFile));
    }

    /// <summary>
    /// The config a user would build in code for the mistake in <paramref name="json"/>: the same
    /// values, without the parser's checks (each app read alone, so no cross-app rule fires).
    /// </summary>
    private static ProxyConfig CodeEquivalent(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        var apps = new List<AppConfig>();
        foreach (var element in document.RootElement.GetProperty("Apps").EnumerateArray())
        {
            var ports = element.GetProperty("Ports").EnumerateArray().Select(static p => p.GetInt32()).ToArray();
            var single = ConfigParser.Parse(
                $$"""{"Apps":[{"Name":"x","Ports":[1],"Targets":{{element.GetProperty("Targets").GetRawText()}}}]}""").Apps[0];
            var app = single with
            {
                Name = element.GetProperty("Name").GetString()!,
                Ports = new EquatableList<int>(ports),
                Strategy = element.TryGetProperty("Strategy", out var strategy) ? strategy.GetString()! : AppConfig.DefaultStrategy,
                HealthCheck = element.TryGetProperty("HealthCheck", out var check) ? new HealthCheckConfig { Probe = check.GetProperty("Probe").GetString()! } : null,
                Rules = element.TryGetProperty("Rules", out var rules)
                    ? new EquatableList<RuleConfig>(rules.EnumerateArray().Select(static r => new RuleConfig
                    {
                        Match = new MatchConfig { Ports = new EquatableList<int>(r.GetProperty("Match").GetProperty("Ports").EnumerateArray().Select(static p => p.GetInt32())) },
                        Targets = new EquatableList<TargetConfig>(r.GetProperty("Targets").EnumerateArray().Select(static t => Target(t.GetString()!))),
                    }))
                    : EquatableList<RuleConfig>.Empty,
            };
            apps.Add(app);
        }

        return new ProxyConfig { Apps = new EquatableList<AppConfig>(apps) };
    }

    private static string ParserProblem(string target)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse($$"""{"Apps":[{"Name":"a","Ports":[1],"Targets":["{{target}}"]}]}"""))!;
        return e.Errors.Single()["Apps[0] \"a\": Targets[0]: ".Length..];
    }
}

using FProxy.Configuration;

namespace FProxy.Tests.Configuration;

public sealed class ConfigParserErrorTests
{
    private const string Forms = "(expected host:port, 1.2.3.4:port or [::1]:port)";
    private const string DurationHint = "(expected a positive integer followed by ms, s, m or h, e.g. \"250ms\", \"5s\", \"1m\")";

    /// <summary>The errors of a config with one app "a", <paramref name="extra"/> added to its keys.</summary>
    private static IReadOnlyList<string> AppErrors(string extra) =>
        Errors($$"""{"Apps":[{"Name":"a","Ports":[5001],"Targets":["h:1"]{{extra}}}]}""");

    private static IReadOnlyList<string> Errors(string json) =>
        Assert.Throws<ConfigException>(() => ConfigParser.Parse(json))!.Errors;

    [Test]
    public void Parse_PortUsedByTwoApps_NamesTheFirstApp()
    {
        var errors = Errors("""
            {"Apps":[{"Name":"five-thousand","Ports":[5001],"Targets":["h:1"]},
                     {"Name":"six-thousand","Ports":[6000,5001],"Targets":["h:1"]}]}
            """);

        Assert.That(errors, Is.EqualTo(new[] { "Apps[1] \"six-thousand\": port 5001 is already used by app \"five-thousand\"" }));
    }

    [Test]
    public void Parse_PortListedTwiceInOneApp_ReportsItOnce()
    {
        Assert.That(Errors("""{"Apps":[{"Name":"a","Ports":[5001,5001,5001],"Targets":["h:1"]}]}"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": port 5001 is listed twice" }));
    }

    [TestCase("{\"Apps\": [\n  {\"Name\": \"a\",\n    ]\n}", 3, 5)]
    [TestCase("", 1, 1)]
    [TestCase("{\"Apps\": [] } x", 1, 15)]
    public void Parse_MalformedJson_GivesLineAndColumn(string json, int line, int column)
    {
        var errors = Errors(json);

        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Does.StartWith($"invalid JSON at line {line}, column {column}: "));
        Assert.That(errors[0], Does.Not.Contain("LineNumber").And.Not.Contain("Exception"));
    }

    [Test]
    public void Parse_MalformedJson_MessageHasSourceAndNoStackTrace()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse("{", "/etc/fproxy/config.json"))!;

        Assert.That(e.Message, Does.StartWith("/etc/fproxy/config.json: invalid JSON at line 1, column 2: "));
        Assert.That(e.Message, Does.Not.Contain(" at System."));
    }

    // Found by fuzzing (ConfigFuzzTests): text that is not Unicode threw an ArgumentException (a lone
    // surrogate in the string) or an InvalidOperationException (one written as an escape) out of
    // Parse, naming no place. The first input is the fuzzer's as it found it. In code, not in
    // TestCase attributes: an attribute stores its strings as UTF-8, where a lone surrogate cannot be.
    [Test]
    public void Parse_LoneSurrogate_IsInvalidJsonWithItsPlace()
    {
        Assert.That(Errors("4}r\\-6\udc00pp8\":s5+*\u00e9EPos{s\u00e9t4r0ol8\rsg4f\u2028"),
            Is.EqualTo(new[] { "invalid JSON at line 1, column 7: a lone UTF-16 surrogate (U+DC00), which is not text" }));
        Assert.That(Errors("{\"Apps\":[{\"Name\":\"a\",\"Ports\":[1],\r\n\"Targets\":[\"h:1\ud83d\"]}]}"),
            Is.EqualTo(new[] { "invalid JSON at line 2, column 16: a lone UTF-16 surrogate (U+D83D), which is not text" }));
    }

    [TestCase("{\"Apps\":[{\"Name\":\"\\ud800\",\"Ports\":[1],\"Targets\":[\"h:1\"]}]}", "line 1, column 18: a string")]
    [TestCase("{\"Apps\":[],\r\n \"\\udc00x\":1}", "line 2, column 2: a key")]
    public void Parse_EscapedLoneSurrogate_IsInvalidJsonWithItsPlace(string json, string problem)
    {
        Assert.That(Errors(json), Is.EqualTo(new[] { $"invalid JSON at {problem} with an escaped UTF-16 surrogate that has no pair, which is not text" }));
    }

    [Test]
    public void Parse_MisspeltAppKey_SuggestsTheKnownKey()
    {
        Assert.That(AppErrors(""","ConnectTimout":"1s" """),
            Is.EqualTo(new[] { "Apps[0] \"a\": unknown key \"ConnectTimout\" (did you mean \"ConnectTimeout\"?)" }));
    }

    [TestCase("Stratgy", "Strategy")]
    [TestCase("Rule", "Rules")]
    [TestCase("SniTimout", "SniTimeout")]
    [TestCase("HealthChecks", "HealthCheck")]
    [TestCase("PasiveHealth", "PassiveHealth")]
    [TestCase("AccesLog", "AccessLog")]
    [TestCase("MaxConnection", "MaxConnections")]
    [TestCase("MaxConections", "MaxConnections")]
    [TestCase("IdleTimout", "IdleTimeout")]
    public void Parse_MisspeltNewAppKey_SuggestsTheKnownKey(string key, string hint)
    {
        Assert.That(AppErrors($$""","{{key}}":1"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": unknown key \"{key}\" (did you mean \"{hint}\"?)" }));
    }

    [Test]
    public void Parse_UnknownKeyFarFromAny_HasNoHint()
    {
        Assert.That(AppErrors(""","Weight":1"""), Is.EqualTo(new[] { "Apps[0] \"a\": unknown key \"Weight\"" }));
    }

    [Test]
    public void Parse_MisspeltRootKey_SuggestsApps()
    {
        Assert.That(Errors("""{"Apss":[]}"""),
            Is.EqualTo(new[] { "unknown key \"Apss\" (did you mean \"Apps\"?)", "missing \"Apps\"" }));
    }

    [Test]
    public void Parse_MisspeltKeepAliveKey_SuggestsTheKnownKey()
    {
        Assert.That(AppErrors(""","KeepAlive":{"Intervall":"5s"}"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": unknown key \"Intervall\" in \"KeepAlive\" (did you mean \"Interval\"?)" }));
    }

    [Test]
    public void Parse_KeyGivenTwiceInDifferentCase_IsAnError()
    {
        Assert.That(AppErrors(""","ports":[5002]"""),
            Is.EqualTo(new[] { "Apps[0] \"a\": key \"ports\" is given twice (also as \"Ports\"; keys ignore case)" }));
    }

    [Test]
    public void Parse_RootKeyGivenTwice_IsAnError()
    {
        Assert.That(Errors("""{"Apps":[],"Apps":[]}"""), Is.EqualTo(new[] { "key \"Apps\" is given twice" }));
    }

    [TestCase("Name", "Apps[0]: missing \"Name\"")]
    [TestCase("Ports", "Apps[0] \"a\": missing \"Ports\"")]
    [TestCase("Targets", "Apps[0] \"a\": missing \"Targets\"")]
    public void Parse_MissingRequiredKey_NamesIt(string key, string expected)
    {
        var keys = new Dictionary<string, string>
        {
            ["Name"] = "\"Name\":\"a\"",
            ["Ports"] = "\"Ports\":[1]",
            ["Targets"] = "\"Targets\":[\"h:1\"]",
        };
        keys.Remove(key);

        Assert.That(Errors($$"""{"Apps":[{{{string.Join(",", keys.Values)}}}]}"""), Is.EqualTo(new[] { expected }));
    }

    [TestCase("Ports")]
    [TestCase("Targets")]
    public void Parse_EmptyList_IsAnError(string key)
    {
        var json = """{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"]}]}""".Replace(key == "Ports" ? "[1]" : "[\"h:1\"]", "[]", StringComparison.Ordinal);

        Assert.That(Errors(json), Is.EqualTo(new[] { $"Apps[0] \"a\": \"{key}\" is empty" }));
    }

    [TestCase("\"\"", "Apps[0]: \"Name\" is empty")]
    [TestCase("\"  \"", "Apps[0]: \"Name\" is empty")]
    [TestCase("5", "Apps[0]: \"Name\" must be a string, got 5")]
    public void Parse_BadName_IsAnError(string name, string expected)
    {
        Assert.That(Errors($$"""{"Apps":[{"Name":{{name}},"Ports":[1],"Targets":["h:1"]}]}"""), Is.EqualTo(new[] { expected }));
    }

    [Test]
    public void Parse_WrongJsonTypes_AreErrors()
    {
        var errors = Errors("""
            {"Apps":[{"Name":"a","Ports":"5001","Targets":"h:1"},
                     {"Name":"b","Ports":[1,"2",3.5],"Targets":[9001]}, 7]}
            """);

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Apps[0] \"a\": \"Ports\" must be an array of ports and port ranges like [5001, \"6000-6099\"], got \"5001\"",
            "Apps[0] \"a\": \"Targets\" must be an array of targets, each \"host:port\" or an object like {\"Address\": \"host:port\", \"Weight\": 2}, got \"h:1\"",
            "Apps[1] \"b\": Ports[1]: expected a port (an integer) or a range like \"6000-6099\", got \"2\"",
            "Apps[1] \"b\": Ports[2]: expected a port (an integer) or a range like \"6000-6099\", got 3.5",
            "Apps[1] \"b\": Targets[0]: expected \"host:port\" or an object like {\"Address\": \"host:port\", \"Weight\": 2}, got 9001",
            "Apps[2]: must be an object, got 7",
        }));
    }

    [TestCase("70000", 1)]
    [TestCase("0", 1)]
    [TestCase("-1", 1)]
    [TestCase("99999999999999999999999", 1)]
    public void Parse_PortOutOfRange_IsAnError(string port, int index)
    {
        Assert.That(Errors($$"""{"Apps":[{"Name":"a","Ports":[1,{{port}}],"Targets":["h:1"]}]}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": Ports[{index}]: port {port} is outside 1..65535" }));
    }

    [Test]
    public void Parse_NameUsedTwiceInAnyCase_NamesTheFirstIndex()
    {
        var errors = Errors("""
            {"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1"]},{"Name":"b","Ports":[2],"Targets":["h:1"]},
                     {"Name":"A","Ports":[3],"Targets":["h:1"]}]}
            """);

        Assert.That(errors, Is.EqualTo(new[] { "Apps[2] \"A\": name \"A\" is already used by Apps[0]" }));
    }

    [TestCase("localhost", "\"localhost\" has no port " + Forms)]
    [TestCase("localhost:", "\"localhost:\" has no port " + Forms)]
    [TestCase("x:0", "\"x:0\" has an invalid port (expected 1..65535)")]
    [TestCase("x:65536", "\"x:65536\" has an invalid port (expected 1..65535)")]
    [TestCase("x:http", "\"x:http\" has an invalid port (expected 1..65535)")]
    [TestCase("x:-1", "\"x:-1\" has an invalid port (expected 1..65535)")]
    [TestCase("::1:80", "\"::1:80\": an IPv6 address must be in brackets, e.g. \"[::1]:80\"")]
    [TestCase("[::1]", "\"[::1]\" has no port " + Forms)]
    [TestCase("[::1]80", "\"[::1]80\" is not a valid target " + Forms)]
    [TestCase("[::1:80", "\"[::1:80\" has no closing ']' " + Forms)]
    [TestCase("[1.2.3.4]:80", "\"[1.2.3.4]:80\": \"1.2.3.4\" in brackets is not an IPv6 address " + Forms)]
    [TestCase(":80", "\":80\" has no host " + Forms)]
    [TestCase("", "\"\" is empty " + Forms)]
    [TestCase("1.2.3:80", "\"1.2.3:80\": \"1.2.3\" is not a valid IPv4 address (expected four numbers 0..255, e.g. 10.0.0.1)")]
    [TestCase("1.2.3.256:80", "\"1.2.3.256:80\": \"1.2.3.256\" is not a valid IPv4 address (expected four numbers 0..255, e.g. 10.0.0.1)")]
    // Found by fuzzing (TargetParserFuzzTests): inet_aton's octal and hex forms, which would connect to 8.0.0.1 and 0.0.0.16.
    [TestCase("010.0.0.1:80", "\"010.0.0.1:80\": \"010.0.0.1\" is not a valid IPv4 address (expected four numbers 0..255, e.g. 10.0.0.1)")]
    [TestCase("0x10:80", "\"0x10:80\": \"0x10\" is not a valid IPv4 address (expected four numbers 0..255, e.g. 10.0.0.1)")]
    [TestCase("010.1.0x10:080", "\"010.1.0x10:080\": \"010.1.0x10\" is not a valid IPv4 address (expected four numbers 0..255, e.g. 10.0.0.1)")]
    public void Parse_BadTarget_ExplainsTheProblem(string target, string problem)
    {
        Assert.That(Errors($$"""{"Apps":[{"Name":"a","Ports":[1],"Targets":["h:1","{{target}}"]}]}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": Targets[1]: {problem}" }));
    }

    [TestCase("bad host:80")]
    [TestCase("a..b:80")]
    [TestCase(".a:80")]
    [TestCase("h\u00e9:80")]
    [TestCase("a/b:80")]
    public void Parse_InvalidHostName_IsAnError(string target)
    {
        var errors = Errors($$"""{"Apps":[{"Name":"a","Ports":[1],"Targets":["{{target}}"]}]}""");

        Assert.That(errors, Has.Count.EqualTo(1));
        Assert.That(errors[0], Does.StartWith("Apps[0] \"a\": Targets[0]: ").And.Contain("is not a valid host name"));
    }

    [Test]
    public void Parse_HostNameTooLong_IsAnError()
    {
        var label64 = new string('a', 64);
        var name254 = string.Join('.', Enumerable.Repeat(new string('b', 50), 5));
        var errors = Errors($$"""{"Apps":[{"Name":"a","Ports":[1],"Targets":["{{label64}}:1","{{name254}}:1","{{new string('c', 63)}}:1"]}]}""");

        Assert.That(name254, Has.Length.EqualTo(254));
        Assert.That(errors, Has.Count.EqualTo(2));
        Assert.That(errors[0], Does.StartWith("Apps[0] \"a\": Targets[0]: ").And.Contain("is not a valid host name"));
        Assert.That(errors[1], Does.StartWith("Apps[0] \"a\": Targets[1]: ").And.Contain("is not a valid host name"));
    }

    [TestCase("ConnectTimeout", "\"5x\"")]
    [TestCase("ConnectTimeout", "5")]
    [TestCase("DrainTimeout", "\"0s\"")]
    [TestCase("DrainTimeout", "\"1.5s\"")]
    [TestCase("DrainTimeout", "\"-1s\"")]
    [TestCase("DrainTimeout", "\" 5s\"")]
    [TestCase("DrainTimeout", "\"5\"")]
    public void Parse_MalformedDuration_IsAnError(string key, string value)
    {
        Assert.That(AppErrors($$""","{{key}}":{{value}}"""),
            Is.EqualTo(new[] { $"Apps[0] \"a\": \"{key}\": {value} is not a duration {DurationHint}" }));
    }

    [Test]
    public void Parse_TimeoutOverTheTimerLimit_IsAnError()
    {
        Assert.That(AppErrors(""","DrainTimeout":"1000h" """),
            Is.EqualTo(new[] { "Apps[0] \"a\": \"DrainTimeout\": \"1000h\" is too long (at most 576h)" }));
    }

    [TestCase("\"localhost\"")]
    [TestCase("\"[::1]\"")]
    [TestCase("\"127.1\"")]
    [TestCase("\"010.0.0.1\"")]
    [TestCase("\"0x7f.1\"")]
    [TestCase("\"\"")]
    [TestCase("1")]
    public void Parse_BindNotAnIpLiteral_IsAnError(string bind)
    {
        Assert.That(AppErrors($$""","Bind":{{bind}}"""), Is.EqualTo(new[]
        {
            $"Apps[0] \"a\": \"Bind\": {bind} is not an IP address (expected e.g. \"127.0.0.1\", \"0.0.0.0\" or \"::1\"; leave \"Bind\" out to listen on all addresses)",
        }));
    }

    [TestCase("0", "\"Backlog\": 0 is outside 1..65535")]
    [TestCase("65536", "\"Backlog\": 65536 is outside 1..65535")]
    [TestCase("\"10\"", "\"Backlog\" must be an integer, got \"10\"")]
    public void Parse_BadBacklog_IsAnError(string backlog, string problem)
    {
        Assert.That(AppErrors($$""","Backlog":{{backlog}}"""), Is.EqualTo(new[] { "Apps[0] \"a\": " + problem }));
    }

    [TestCase("\"maybe\"")]
    [TestCase("1")]
    [TestCase("null")]
    public void Parse_KeepAliveOfWrongKind_IsAnError(string value)
    {
        var errors = AppErrors($$""","KeepAlive":{{value}}""");

        Assert.That(errors, Is.EqualTo(new[]
        {
            $"Apps[0] \"a\": \"KeepAlive\" must be \"on\", \"off\", true, false or an object like {{\"Idle\": \"60s\", \"Interval\": \"10s\", \"Count\": 6}}, got {value}",
        }));
    }

    [Test]
    public void Parse_BadKeepAliveFields_AreErrors()
    {
        var errors = AppErrors(""","KeepAlive":{"Idle":"250ms","Interval":"x","Count":128}""");

        Assert.That(errors, Is.EqualTo(new[]
        {
            "Apps[0] \"a\": \"KeepAlive.Idle\": \"250ms\" must be whole seconds from 1s to 32767s (the kernel counts keepalive time in seconds)",
            $"Apps[0] \"a\": \"KeepAlive.Interval\": \"x\" is not a duration {DurationHint}",
            "Apps[0] \"a\": \"KeepAlive.Count\": 128 is outside 1..127",
        }));
    }

    [TestCase("[]", "the root must be an object like {\"Apps\": [...]}, got []")]
    [TestCase("\"x\"", "the root must be an object like {\"Apps\": [...]}, got \"x\"")]
    [TestCase("{}", "missing \"Apps\"")]
    [TestCase("{\"Apps\":{}}", "\"Apps\" must be an array, got {}")]
    [TestCase("{\"Apps\":null}", "\"Apps\" must be an array, got null")]
    public void Parse_BadRoot_IsAnError(string json, string expected)
    {
        Assert.That(Errors(json), Is.EqualTo(new[] { expected }));
    }

    [Test]
    public void Parse_ManyProblems_ReportsEveryOneAtOnce()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigParser.Parse("""
            {"Apps":[
              {"Name":"five-thousand","Ports":[5001,70000],"Targets":["localhost"],"ConnectTimout":"1s"},
              {"Name":"six-thousand","Ports":[5001],"Targets":["x:0"],"DrainTimeout":"5x","Bind":"localhost"},
              {"Ports":[],"Targets":[]}
            ]}
            """, "config.json"))!;

        Assert.That(e.Errors, Is.EqualTo(new[]
        {
            "Apps[0] \"five-thousand\": unknown key \"ConnectTimout\" (did you mean \"ConnectTimeout\"?)",
            "Apps[0] \"five-thousand\": Ports[1]: port 70000 is outside 1..65535",
            $"Apps[0] \"five-thousand\": Targets[0]: \"localhost\" has no port {Forms}",
            "Apps[1] \"six-thousand\": port 5001 is already used by app \"five-thousand\"",
            "Apps[1] \"six-thousand\": Targets[0]: \"x:0\" has an invalid port (expected 1..65535)",
            "Apps[1] \"six-thousand\": \"Bind\": \"localhost\" is not an IP address (expected e.g. \"127.0.0.1\", \"0.0.0.0\" or \"::1\"; leave \"Bind\" out to listen on all addresses)",
            $"Apps[1] \"six-thousand\": \"DrainTimeout\": \"5x\" is not a duration {DurationHint}",
            "Apps[2]: missing \"Name\"",
            "Apps[2]: \"Ports\" is empty",
            "Apps[2]: \"Targets\" is empty",
        }));
        Assert.That(e.Message, Does.StartWith("config.json: 10 errors:"));
    }
}

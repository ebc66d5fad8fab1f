using FProxy.Configuration;

namespace FProxy.Tests.Configuration;

/// <summary><c>"Ports"</c> with ranges: <c>[5001, "6000-6099"]</c>.</summary>
public sealed class ConfigParserPortRangeTests
{
    private static ProxyConfig Parse(string apps) => ConfigParser.Parse($$"""{"Apps":[{{apps}}]}""");

    private static IReadOnlyList<string> Errors(string apps) =>
        Assert.Throws<ConfigException>(() => Parse(apps))!.Errors;

    private static string App(string name, string ports) => $$"""{"Name":"{{name}}","Ports":{{ports}},"Targets":["h:1"]}""";

    [Test]
    public void Parse_NumbersAndRanges_ExpandedInOrder()
    {
        var ports = Parse(App("a", """[5001, "6000-6003", "7000-7000", 5002]""")).Apps[0].Ports;
        Assert.That(ports, Is.EqualTo(new[] { 5001, 6000, 6001, 6002, 6003, 7000, 5002 }));
    }

    [Test]
    public void Parse_RangeOfTheMostPortsAllowed_IsAccepted()
    {
        Assert.That(Parse(App("a", """["50000-59999"]""")).Apps[0].Ports, Has.Count.EqualTo(10_000));
    }

    [TestCase("\"6099-6000\"", "Ports[0]: range \"6099-6000\" runs backwards (write \"6000-6099\")")]
    [TestCase("\"1000-60000\"", "Ports[0]: range \"1000-60000\" has 59,001 ports, more than the 10,000 a range may have")]
    [TestCase("\"0-10\"", "Ports[0]: range \"0-10\" is outside 1..65535")]
    [TestCase("\"65530-65536\"", "Ports[0]: range \"65530-65536\" is outside 1..65535")]
    [TestCase("\"6000 - 6099\"", "Ports[0]: expected a port (an integer) or a range like \"6000-6099\", got \"6000 - 6099\"")]
    [TestCase("\"6000-\"", "Ports[0]: expected a port (an integer) or a range like \"6000-6099\", got \"6000-\"")]
    [TestCase("\"-6000\"", "Ports[0]: expected a port (an integer) or a range like \"6000-6099\", got \"-6000\"")]
    [TestCase("\"6000-6099-7000\"", "Ports[0]: expected a port (an integer) or a range like \"6000-6099\", got \"6000-6099-7000\"")]
    [TestCase("\"+1-5\"", "Ports[0]: expected a port (an integer) or a range like \"6000-6099\", got \"+1-5\"")]
    public void Parse_BadRange_NamesTheEntryAndWhy(string entry, string message)
    {
        Assert.That(Errors(App("a", $"[{entry}]")), Is.EqualTo(new[] { "Apps[0] \"a\": " + message }));
    }

    [Test]
    public void Parse_RangesOverlappingInOneApp_OneLineWithTheCount()
    {
        Assert.That(Errors(App("a", """["6000-6099", "6050-6149"]""")),
            Is.EqualTo(new[] { "Apps[0] \"a\": Ports[1]: port 6050 is listed twice (and 49 more)" }));
    }

    [Test]
    public void Parse_RangeOverlappingAnotherApps_OneLineNamingIt()
    {
        Assert.That(Errors(App("a", """["6000-6099"]""") + "," + App("b", """[7000, "6050-6060"]""")),
            Is.EqualTo(new[] { "Apps[1] \"b\": Ports[1]: port 6050 is already used by app \"a\" (and 10 more)" }));
    }

    [Test]
    public void Parse_SinglePortListedThrice_ReportedOnce()
    {
        Assert.That(Errors(App("a", "[5, 5, 5]")), Is.EqualTo(new[] { "Apps[0] \"a\": port 5 is listed twice" }));
    }

    [Test]
    public void Parse_PortInsideAnotherAppsRange_NamesThePort()
    {
        Assert.That(Errors(App("a", """["6000-6099"]""") + "," + App("b", "[6010]")),
            Is.EqualTo(new[] { "Apps[1] \"b\": port 6010 is already used by app \"a\"" }));
    }
}

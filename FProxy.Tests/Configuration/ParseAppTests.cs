using FProxy.Configuration;

namespace FProxy.Tests.Configuration;

/// <summary>One app on its own (an etcd key's value): the file's keys, defaults and messages, without a place prefix.</summary>
internal sealed class ParseAppTests
{
    [Test]
    public void A_valid_app_parses_with_the_files_defaults()
    {
        var app = ConfigParser.ParseApp("""{"name":"web","ports":[5001],"targets":["127.0.0.1:9"], /* comment */ }""", "/fproxy/apps/web");
        var fromFile = ConfigParser.Parse("""{"Apps":[{"Name":"web","Ports":[5001],"Targets":["127.0.0.1:9"]}]}""").Apps[0];
        Assert.That(app, Is.EqualTo(fromFile));
    }

    [TestCase("""{"Name":"web","Ports":[5001""", "invalid JSON at line 1")]
    [TestCase("""[1]""", "an app must be an object, got [1]")]
    [TestCase("""{"Name":"web","Ports":[5001],"Targets":["127.0.0.1:9"],"Targetz":[]}""", "unknown key \"Targetz\"")]
    [TestCase("""{"Name":"web","Ports":[],"Targets":["127.0.0.1:9"]}""", "\"Ports\" is empty")]
    [TestCase("""{"Ports":[5001],"Targets":["127.0.0.1:9"]}""", "missing \"Name\"")]
    [TestCase("""{"Name":"\ud800","Ports":[5001],"Targets":["127.0.0.1:9"]}""", "invalid JSON at line 1, column 9: a string with an escaped UTF-16 surrogate")]
    public void A_bad_app_names_every_problem_without_a_place(string json, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigParser.ParseApp(json, "/fproxy/apps/web"));
        Assert.Multiple(() =>
        {
            Assert.That(error!.Source, Is.EqualTo("/fproxy/apps/web"));
            Assert.That(error.Errors, Has.Some.Contains(expected));
            Assert.That(error.Errors, Has.None.StartsWith("Apps["), "no place prefix: the key is the place");
            Assert.That(error.Message, Does.StartWith("/fproxy/apps/web: "));
        });
    }

    [Test]
    public void ValidateApp_checks_one_app_without_rules_across_apps()
    {
        var app = ConfigParser.ParseApp("""{"Name":"web","Ports":[5001],"Targets":["127.0.0.1:9"]}""");
        Assert.That(ConfigValidator.ValidateApp(app), Is.Empty);
        Assert.That(ConfigValidator.ValidateApp(app with { Backlog = 0 }), Has.Some.Contains("\"Backlog\": 0 is outside"));
    }
}

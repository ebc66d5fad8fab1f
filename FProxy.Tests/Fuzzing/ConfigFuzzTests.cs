using System.Text.Json;
using System.Text.RegularExpressions;
using CsCheck;
using FProxy.Configuration;

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// <see cref="ConfigParser"/> and <see cref="ConfigValidator"/> on any text: a valid snapshot, or a
/// <see cref="ConfigException"/> whose every error names its place; never another exception, never
/// a hang. One app read alone (<see cref="ConfigParser.ParseApp"/>, an etcd key's value) gives what
/// the same app gives inside a whole config. The validator alone, on records with any values (as
/// code or a custom source builds them), lists its problems the same way.
/// </summary>
[Category("Fuzz")]
internal sealed partial class ConfigFuzzTests
{
    private const string Target = "config";
    private const string Source = "fuzz.json";
    private const string AppSource = "/fproxy/apps/fuzz";

    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    [Test]
    public void Parse_AnyText_GivesASnapshotOrLocatedErrors()
    {
        var seeds = Corpus.Texts(Target);
        var mutated = Mutations<char>.Of([.. seeds.Select(static s => s.ToCharArray())], ConfigTexts.Dictionary, Gen.Char).Select(static chars => new Case(new string(chars), false));
        var truncated = Gen.Select(Gen.OneOf(ConfigTexts.Config, Gen.OneOf([.. seeds])), Gen.Int[0, int.MaxValue], static (text, cut) => new Case(text[..(cut % (text.Length + 1))], false));
        var gen = Gen.Frequency(
            (3, ConfigTexts.Config.Select(static t => new Case(t, false))),
            (2, AppTexts.App.Select(static t => new Case(t, true))),
            (3, mutated),
            (1, truncated),
            (1, ConfigTexts.Tokens.Select(static t => new Case(t, false))),
            (1, ConfigTexts.Random.Select(static t => new Case(t, false))),
            (2, ConfigRecords.Config.Select(static records => new Case(string.Empty, false, records))));
        Fuzz.Check(Target, gen, Check, iterations: 20_000, print: static c => c.ToString());
    }

    [Test]
    public void Parse_EveryTruncationOfTheCorpus_GivesASnapshotOrLocatedErrors() =>
        Fuzz.Each(Target, Corpus.Texts(Target).SelectMany(static text => Enumerable.Range(0, text.Length + 1).Select(cut => new Case(text[..cut], false))), Check, static c => c.ToString());

    [Test]
    public void Parse_ValidSeedsOfTheCorpus_AreValid()
    {
        var valid = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "Fuzzing", "Corpus", Target), "valid-*.json");
        Assert.That(valid, Is.Not.Empty);
        foreach (var file in valid)
        {
            Assert.DoesNotThrow(() => ConfigParser.Parse(File.ReadAllText(file), file), file);
        }
    }

    private static void Check(Case c)
    {
        if (c.Records is not null)
        {
            CheckRecords(c.Records);
        }
        else if (c.IsApp)
        {
            CheckApp(c.Text);
        }
        else
        {
            CheckConfig(c.Text);
        }
    }

    private static void CheckConfig(string text)
    {
        ProxyConfig config;
        try
        {
            config = ConfigParser.Parse(text, Source);
        }
        catch (ConfigException e)
        {
            RequireLocated(e, Source);
            foreach (var error in e.Errors)
            {
                FuzzFinding.Require(Located().IsMatch(error), $"an error that names no place: \"{error}\"");
            }

            return;
        }

        FuzzFinding.Require(config.Apps is not null && ConfigValidator.Validate(config).Count == 0, "a snapshot the validator refuses");

        // Each app, read alone as an etcd key's value is, is the app the whole config has.
        using var document = JsonDocument.Parse(text, DocumentOptions);
        var apps = document.RootElement.EnumerateObject().First(static p => p.Name.Equals("Apps", StringComparison.OrdinalIgnoreCase)).Value.EnumerateArray().ToList();
        FuzzFinding.Require(apps.Count == config.Apps!.Count, $"{apps.Count} apps in the text, {config.Apps.Count} in the snapshot");
        for (var i = 0; i < apps.Count; i++)
        {
            var alone = ConfigParser.ParseApp(apps[i].GetRawText(), AppSource);
            FuzzFinding.Require(alone.Equals(config.Apps[i]), $"Apps[{i}] read alone differs from Apps[{i}] in the config");
        }
    }

    private static void CheckApp(string text)
    {
        AppConfig? app = null;
        ConfigException? refused = null;
        try
        {
            app = ConfigParser.ParseApp(text, AppSource);
            FuzzFinding.Require(ConfigValidator.ValidateApp(app).Count == 0, "an app the validator refuses");
        }
        catch (ConfigException e)
        {
            RequireLocated(e, AppSource);
            refused = e;
        }

        if (refused?.Errors is [var json] && json.StartsWith("invalid JSON", StringComparison.Ordinal))
        {
            return;
        }

        // The same app as the only one of a config: the same verdict, the same errors with its place in front.
        var wrapped = $"{{\"Apps\":[\n{text}\n]}}";
        try
        {
            var config = ConfigParser.Parse(wrapped, Source);
            FuzzFinding.Require(app is not null && config.Apps.Count == 1 && config.Apps[0].Equals(app), $"valid in a config, but alone: {refused?.Message}");
        }
        catch (ConfigException e) when (e.Errors is [var error] && error.StartsWith("invalid JSON", StringComparison.Ordinal))
        {
            // Two levels deeper than alone: past the reader's depth limit.
            FuzzFinding.Require(error.Contains("depth", StringComparison.OrdinalIgnoreCase), $"valid JSON alone, not in a config: {error}");
        }
        catch (ConfigException e)
        {
            FuzzFinding.Require(refused is not null, $"valid alone, but in a config: {e.Message}");
            var alone = refused!.Errors.Select(static a => a.StartsWith("an app must be", StringComparison.Ordinal) ? a["an app ".Length..] : a).ToList();
            FuzzFinding.Require(
                e.Errors.Count == alone.Count && e.Errors.Zip(alone).All(static p => p.First.StartsWith("Apps[0]", StringComparison.Ordinal) && p.First.EndsWith(": " + p.Second, StringComparison.Ordinal)),
                $"alone: [{string.Join(" | ", alone)}]; in a config: [{string.Join(" | ", e.Errors)}]");
        }
    }

    private static void CheckRecords(ProxyConfig config)
    {
        var errors = ConfigValidator.Validate(config);
        foreach (var error in errors)
        {
            FuzzFinding.Require(Located().IsMatch(error), $"an error that names no place: \"{error}\"");
        }

        try
        {
            ConfigValidator.ThrowIfInvalid(config, Source);
            FuzzFinding.Require(errors.Count == 0, "ThrowIfInvalid passed what Validate refuses");
        }
        catch (ConfigException e)
        {
            FuzzFinding.Require(e.Errors.SequenceEqual(errors), $"ThrowIfInvalid says otherwise than Validate: {e.Message}");
        }

        foreach (var app in config.Apps ?? [])
        {
            if (app is not null)
            {
                _ = ConfigValidator.ValidateApp(app);
            }
        }
    }

    private static void RequireLocated(ConfigException e, string source) =>
        FuzzFinding.Require(e.Errors.Count > 0 && e.Errors.All(static error => error.Length > 0) && e.Message.StartsWith(source + ": ", StringComparison.Ordinal),
            $"a ConfigException without its source or errors: {e.Message}");

    /// <summary>
    /// Where an error of a whole config may be: a line and column in the text, an app
    /// (<c>Apps[1]</c>, then its name and the key), or the root and its one key.
    /// </summary>
    [GeneratedRegex("""^(invalid JSON at line \d+, column \d+: .|Apps\[\d+\]|the root must be |missing "Apps"$|"Apps" must be |unknown key "|key "Apps" is given twice)""")]
    private static partial Regex Located();

    /// <summary>A text to parse as a whole config or as one app, or records to validate.</summary>
    private sealed record Case(string Text, bool IsApp, ProxyConfig? Records = null)
    {
        public override string ToString() =>
            Records is not null ? $"records {Records}" : (IsApp ? "app " : "config ") + FuzzPrint.Text(Text);
    }
}

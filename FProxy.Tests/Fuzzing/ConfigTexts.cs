using CsCheck;

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// Generators of config JSON: whole configs of generated apps (<see cref="AppTexts"/>), some with a
/// root of the wrong shape; token soup; random text; and the dictionary text mutations splice in.
/// </summary>
internal static class ConfigTexts
{
    /// <summary>A whole config: mostly <c>{"Apps": [...]}</c> with up to three apps, sometimes with a root of the wrong shape.</summary>
    public static Gen<string> Config { get; } =
        Gen.Select(AppTexts.App.Array[0, 3], Gen.Int[0, 39], Gen.OneOf(AppTexts.AnyValues), static (apps, root, other) => root switch
        {
            0 => other,
            1 => $"{{\"Apps\":[{string.Join(',', apps)}],\"Apps\":[]}}",
            2 => $"{{\"Apss\":[{string.Join(',', apps)}]}}",
            3 => $"{{\"Apps\":{other}}}",
            4 => $"[{string.Join(',', apps)}]",
            5 => $"// a comment\n{{\"apps\":[{string.Join(",\n", apps)},],}}",
            _ => $"{{\"Apps\":[{string.Join(',', apps)}]}}",
        });

    /// <summary>JSON tokens and config keys in any order: mostly broken JSON that gets past the first byte.</summary>
    public static Gen<string> Tokens { get; } =
        Gen.OneOf("{", "}", "[", "]", ":", ",", " ", "\n", "\"Apps\"", "\"Name\"", "\"Ports\"", "\"Targets\"", "\"Rules\"", "\"Match\"", "\"a\"", "\"h:1\"", "5001", "\"5s\"",
            "true", "null", "1e999", "// c\n", "/* c */", "/*", "\"\\u", "\"\\ud800\"", "\u00e9", "\ud800").Array[0, 60].Select(static tokens => string.Concat(tokens));

    /// <summary>Text of JSON's characters, config letters and odd code points (lone surrogates included).</summary>
    public static Gen<string> Random { get; } =
        Gen.String[Gen.Char["{}[]\":,0123456789.-+eE truefalsn\\/*\r\n\tAppsNamePortsTargets\u00e9\u2028\ud800\udc00\u0000"], 0, 80];

    /// <summary>What a text mutation splices in: JSON's structure and the config's keys and values.</summary>
    public static IReadOnlyList<char[]> Dictionary { get; } =
        [.. new[] { "{", "}", "[", "]", "\"", ":", ",", "null", "true", "-1", "0", "1e309", "99999999999999999999", "\"\\ud800\"", "\"x\"", "[[[[[[[[", "]]]]]]]]",
            "\"Apps\":[]", "\"Name\":\"a\"", "\"Ports\":[1]", "\"Targets\":[\"h:1\"]", "\"6000-6099\"", "\"5s\"", "//", "/*", "*/", "\n" }.Select(static t => t.ToCharArray())];
}

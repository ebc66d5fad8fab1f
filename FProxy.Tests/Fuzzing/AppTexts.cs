using System.Collections.Immutable;
using System.Globalization;
using CsCheck;

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// Generators of one app's JSON, built key by key from values that are mostly valid and sometimes
/// of the wrong type, out of range, huge, deeply nested or oddly encoded; keys in any case,
/// misspelt, unknown or given twice. <see cref="ConfigTexts"/> makes whole configs of them.
/// </summary>
internal static class AppTexts
{
    /// <summary>Lone and paired surrogates, NUL, non-ASCII: as JSON escapes, which the reader decodes late.</summary>
    private static readonly string[] OddStrings = ["\"\\ud800\"", "\"\\uD83D\\uDE00\"", "\"\\u0000\"", "\"\u00e9\"", "\"\\\"\"", "\"\""];

    /// <summary>Values of the wrong type, or huge, for any key (and for the root of a config).</summary>
    public static readonly string[] AnyValues =
        ["null", "true", "0", "-1", "1.5", "1e308", "1e309", "99999999999999999999999", "\"x\"", "[]", "{}", "[1]", "{\"a\":1}", .. OddStrings];

    private static readonly string[] Durations = ["\"5s\"", "\"250ms\"", "\"1m\"", "\"2h\"", "\"576h\""];

    private static readonly string[] BadDurations = ["\"577h\"", "\"0s\"", "\"1.5s\"", "\"9999999999999999999h\"", "\"99ms\"", "\"5S\"", "\"off\"", "5"];

    private static readonly Gen<string> Port = Gen.Int[1, 65535].Select(static p => p.ToString(CultureInfo.InvariantCulture));

    private static readonly Gen<string> Target =
        Gen.Select(Gen.OneOf("h", "localhost", "127.0.0.1", "[::1]", "backend.internal.", "10.0.0.2"), Port, Gen.Int[0, 3],
            static (host, port, weight) => weight == 0 ? $"\"{host}:{port}\"" : $"{{\"Address\":\"{host}:{port}\",\"Weight\":{weight}}}");

    private static readonly string[] BadTargets =
        ["\"H:1\"", "\"h\"", "\":80\"", "\"010.0.0.1:80\"", "\"[fe80::1%eth0]:1\"", "{\"Address\":\"h:3\",\"Weight\":0}", "{\"Address\":\"h:1\",\"Weight\":1001}",
         "{\"Weight\":1}", "{\"Address\":5}", "{\"address\":\"h:4\",\"ADDRESS\":\"h:5\"}", "5"];

    private static readonly string[] Cidrs = ["\"10.0.0.0/8\"", "\"fd00::/8\"", "\"FD00:0::/16\"", "\"::/0\"", "\"192.168.1.7\""];

    private static readonly string[] BadCidrs = ["\"10.0.0.1/8\"", "\"1.2.3.4/33\"", "\"x\"", "1"];

    private static readonly string[] Snis = ["\"*.example.com\"", "\"api.example.com\""];

    private static readonly string[] BadSnis = ["\"*\"", "\"a.*.com\"", "\"example.com.\"", "\"1.2.3.4\"", "\"\u00e9.com\"", "\"\""];

    /// <summary>One match criterion list, a rule's other keys.</summary>
    private static readonly Gen<string> Rule =
        Gen.Select(
            Gen.Select(List(Cidrs, BadCidrs, 0, 3), List(["5001", "1"], ["70000", "\"5001\""], 0, 2), List(Snis, BadSnis, 0, 2),
                static (cidrs, ports, sni) => Object(("SourceCidrs", cidrs), ("Ports", ports), ("Sni", sni))),
            Mostly(Target, BadTargets).Array[1, 3].Select(static targets => $"[{string.Join(',', targets)}]"),
            Maybe(Gen.OneOf("\"LeastConnections\"", "\"Nope\"", "null", "1")),
            Maybe(Gen.OneOf("\"v1\"", "\"v2\"", "\"off\"", "\"v3\"")),
            static (match, targets, strategy, proxy) => Object(("Match", match), ("Targets", targets), ("Strategy", strategy), ("ProxyProtocol", proxy)));

    /// <summary>Every app key, how often it is given, and its values: mostly valid, sometimes not.</summary>
    private static readonly (string Key, int Percent, Gen<string> Value)[] AppKeys =
    [
        ("Name", 95, Mostly(Gen.Int[0, 999].Select(static n => $"\"app{n}\""), ["\" \"", "5", "null", .. OddStrings])),
        ("Ports", 95, Mostly(Gen.OneOf(Port, Gen.Int[1, 60000].Select(static p => $"\"{p}-{p + 99}\"")), ["\"1-10000\"", "\"1-65535\"", "\"5-1\"", "\"a-b\"", "\"-\"", "0", "65536", "1e3", "5001.5", "-1", "99999999999999999999"])
            .Array[1, 4].Select(static ports => $"[{string.Join(',', ports)}]")),
        ("Targets", 95, Mostly(Target, BadTargets).Array[1, 4].Select(static targets => $"[{string.Join(',', targets)}]")),
        ("Strategy", 30, Mostly(["\"RoundRobin\"", "\"random\"", "\"LeastConnections\"", "\"PowerOfTwoChoices\"", "\"WeightedRoundRobin\"", "\"ConsistentHash\"", "null"], ["\"Nope\""])),
        ("Rules", 25, Rule.Array[0, 3].Select(static rules => $"[{string.Join(',', rules)}]")),
        ("Bind", 20, Mostly(["\"127.0.0.1\"", "\"::1\"", "\"0.0.0.0\"", "null"], ["\"localhost\"", "\"[::1]\"", "\"010.0.0.1\""])),
        ("Backlog", 15, Mostly(["1", "4096", "65535"], ["0", "65536", "\"10\""])),
        ("ConnectTimeout", 20, Mostly(Durations, BadDurations)),
        ("DrainTimeout", 15, Mostly(Durations, BadDurations)),
        ("KeepAlive", 20, Mostly(["\"on\"", "\"off\"", "true", "false", "{\"Idle\":\"30s\",\"Interval\":\"5s\",\"Count\":6}"], ["{\"Idle\":\"250ms\"}", "{\"Count\":128}", "{\"Intervall\":\"5s\"}", "\"maybe\""])),
        ("SniTimeout", 15, Mostly(Durations, BadDurations)),
        ("HealthCheck", 25, Mostly(["\"on\"", "\"off\"", "true", "null", "{\"Interval\":\"5s\",\"Timeout\":\"1s\"}", "{\"Send\":\"PING\\r\\n\",\"Expect\":\"+PONG\"}"],
            ["{\"Probe\":\"tcp\",\"Send\":\"x\"}", "{\"Probe\":\"nope\"}", "{\"Interval\":\"1ms\"}", "{\"HealthyThreshold\":0,\"UnhealthyThreshold\":101}", "{\"Send\":\"\"}", "{\"Probe\":\"send-expect\"}"])),
        ("PassiveHealth", 20, Mostly(["\"on\"", "\"off\"", "false", "{\"ConsecutiveFailures\":3,\"BaseEjection\":\"5s\",\"MaxEjection\":\"2m\"}"], ["{\"BaseEjection\":\"10m\",\"MaxEjection\":\"1m\"}", "{\"ConsecutiveFailures\":0}"])),
        ("AccessLog", 15, Mostly(["true", "false"], ["\"yes\""])),
        ("MaxConnections", 15, Mostly(["null", "1", "1000000"], ["1000001", "0", "\"5\""])),
        ("MaxConnectionsPerSource", 15, Mostly(["null", "1", "100"], ["-1", "1e7", "\"off\""])),
        ("MaxPeekingConnections", 15, Mostly(["null", "1", "1000"], ["0", "1.5", "[]"])),
        ("IdleTimeout", 15, Mostly(["\"off\"", "\"OFF\"", "\"100ms\"", .. Durations], ["\"99ms\"", .. BadDurations])),
        ("ProxyProtocol", 20, Mostly(["\"v1\"", "\"v2\"", "\"off\"", "\"V2\""], ["\"v3\"", "2"])),
        ("AcceptProxyProtocol", 20, Mostly(["true", "false"], ["\"true\""])),
        ("ProxyProtocolTimeout", 10, Mostly(Durations, BadDurations)),
        ("TrustedProxies", 15, Gen.OneOf(List(Cidrs, BadCidrs, 0, 3), Gen.OneOf("\"10.0.0.0/8\"", "null"))),
    ];

    /// <summary>One app object: each key present or not, maybe misspelt, in another case, given twice, or with a wrong, huge or nested value.</summary>
    public static Gen<string> App { get; } = BuildApp();

    private static Gen<string> BuildApp()
    {
        var keyed = AppKeys.Aggregate(
            Gen.Const(ImmutableList<string>.Empty),
            static (app, key) => Gen.Select(app, Property(key.Key, key.Percent, key.Value), static (list, property) => property is null ? list : list.Add(property)));
        var unknown = Gen.Frequency((30, Gen.Const(string.Empty)), (1, Gen.OneOf("\"Weight\":1", "\"Apps\":[]", "\"ConnectTimout\":\"1s\"", "\"\u00e9\":1", "\"\\ud800\":1", "\"\":0")));
        return Gen.Select(keyed, unknown, Gen.Bool, static (properties, extra, pretty) =>
        {
            var all = extra.Length == 0 ? properties : properties.Add(extra);
            return pretty ? $"{{\n  {string.Join(",\n  ", all)}\n}}" : $"{{{string.Join(',', all)}}}";
        });
    }

    /// <summary>A property, or null when the key is left out (<paramref name="percent"/> is how often it is present).</summary>
    private static Gen<string?> Property(string key, int percent, Gen<string> value)
    {
        var spelt = Gen.Frequency((40, Gen.Const(key)), (1, Gen.Const(key.ToLowerInvariant())), (1, Gen.Const(key.ToUpperInvariant())), (1, Gen.Const(key[..^1])));
        var written = Gen.Frequency((200, value), (8, Gen.OneOf(AnyValues)), (1, Nested()), (1, Gen.Int[1000, 20_000].Select(static n => $"\"{new string('x', n)}\"")));
        var present = Gen.Select(spelt, written, Gen.Int[0, 60], Gen.OneOf(AnyValues), static (name, v, twice, again) =>
            twice == 0 ? $"\"{name}\":{v},\"{name.ToLowerInvariant()}\":{again}" : $"\"{name}\":{v}");
        return Gen.Frequency((percent, present.Select(static p => (string?)p)), (100 - percent, Gen.Const(static () => (string?)null)));
    }

    /// <summary>Arrays or objects nested up to 300 deep, mostly around the reader's limit of 64.</summary>
    private static Gen<string> Nested() =>
        Gen.Select(Gen.Frequency((3, Gen.Int[1, 70]), (1, Gen.Int[71, 300])), Gen.Bool, static (depth, arrays) => arrays
            ? new string('[', depth) + new string(']', depth)
            : string.Concat(Enumerable.Repeat("{\"a\":", depth)) + "1" + new string('}', depth));

    /// <summary>A JSON array of <paramref name="min"/> to <paramref name="max"/> items, mostly from <paramref name="valid"/>.</summary>
    private static Gen<string> List(string[] valid, string[] invalid, int min, int max) =>
        Mostly(valid, invalid).Array[min, max].Select(static chosen => $"[{string.Join(',', chosen)}]");

    /// <summary>Nine times in ten a valid value, else an invalid one: configs near validity, so that the validator's checks are reached.</summary>
    private static Gen<string> Mostly(string[] valid, string[] invalid) => Mostly(Gen.OneOf(valid), invalid);

    private static Gen<string> Mostly(Gen<string> valid, string[] invalid) => Gen.Frequency((9, valid), (1, Gen.OneOf(invalid)));

    /// <summary>The value, or null (the key left out) half the time.</summary>
    private static Gen<string?> Maybe(Gen<string> value) =>
        Gen.Frequency((1, value.Select(static v => (string?)v)), (1, Gen.Const(static () => (string?)null)));

    /// <summary>An object of the properties whose value is not null; an empty list reads as absent.</summary>
    private static string Object(params (string Key, string? Value)[] properties) =>
        "{" + string.Join(',', properties.Where(static p => p.Value is not null && p.Value != "[]").Select(static p => $"\"{p.Key}\":{p.Value}")) + "}";
}

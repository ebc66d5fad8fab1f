using System.Globalization;
using System.Net;
using System.Net.Sockets;
using CsCheck;
using FProxy.Configuration;

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// <see cref="TargetParser"/> on any text: never throws, explains every refusal with the text
/// quoted, and what it accepts writes back to the same text and means the address it reads as.
/// </summary>
[Category("Fuzz")]
internal sealed class TargetParserFuzzTests
{
    private const string Target = "target";

    private static readonly string[] Tokens =
        [":", "[", "]", "::", ".", "0", "00", "255", "256", "65535", "65536", "%eth0", "::ffff:", "-", "_", "..", " ", "1.2.3.4"];

    /// <summary>Valid targets, each with the target it must parse to.</summary>
    private static readonly Gen<Case> Valid =
        Gen.Select(Gen.OneOf(HostName(), Gen.Byte.Array[4].Select(static b => (object)b), Gen.Byte.Array[16].Select(ZeroHeavy)), Gen.Int[1, 65535], static (host, port) => host switch
        {
            string name => new Case($"{name}:{port}", new TargetConfig(name, port)),
            byte[] bytes when bytes.Length == 4 => new Case($"{new IPAddress(bytes)}:{port}", new TargetConfig(new IPAddress(bytes).ToString(), port)),
            byte[] bytes => new Case($"[{new IPAddress(bytes)}]:{port}", new TargetConfig(new IPAddress(bytes).ToString(), port)),
            _ => throw new InvalidOperationException(),
        });

    private static readonly Gen<Case> Random =
        Gen.String[Gen.Char["0123456789abcdefABCDEF:.[]%-_ /x\u00e9\u0000"], 0, 48].Select(static text => new Case(text, null));

    /// <summary>Targets assembled from the pieces parsers get wrong: octets with leading zeros or in hex, scopes, odd ports.</summary>
    private static readonly Gen<Case> NearValid =
        Gen.Select(
            Gen.Frequency(
                (3, Gen.OneOf("0", "00", "010", "08", "1", "127", "255", "256", "0x10", "0377", "", "1000", "-1", " 1").Array[1, 5].Select(static parts => string.Join('.', parts))),
                (1, Gen.OneOf("::1", "::ffff:1.2.3.4", "fe80::1%eth0", "1::2%", "::", "1:2:3:4:5:6:7:8:9", "1::2::3", "::1]", "[::1")),
                (1, Gen.OneOf("0x1", "0x7f000001", "0X7F.1", "1e3", "a", "-a", "a-", "_", "é", "a.-b", "localhost."))),
            Gen.Bool,
            Gen.OneOf("80", "0", "1", "65535", "65536", "080", "00001", "", "-1", "+1", " 1", "1 ", "99999", "１"),
            static (host, brackets, port) => new Case(brackets ? $"[{host}]:{port}" : $"{host}:{port}", null));

    [Test]
    public void TryParse_AnyText_ExplainsOrRoundTrips()
    {
        var mutated = Mutations<char>.Of([.. Corpus.Lines(Target).Select(static line => line.ToCharArray())], [.. Tokens.Select(static t => t.ToCharArray())], Gen.Char)
            .Select(static chars => new Case(new string(chars), null));
        Fuzz.Check(Target, Gen.Frequency((2, Valid), (2, NearValid), (1, Random), (2, mutated)), Check, iterations: 100_000, print: static c => FuzzPrint.Text(c.Text));
    }

    [Test]
    public void TryParse_CorpusLines_ExplainOrRoundTrip() =>
        Fuzz.Each(Target, Corpus.Lines(Target).Select(static line => new Case(line, null)), Check, static c => FuzzPrint.Text(c.Text));

    private static void Check(Case input)
    {
        var (text, expected) = input;
        var parsed = TargetParser.TryParse(text, out var target, out var problem);
        FuzzFinding.Require(parsed == target is not null && parsed == problem is null, $"TryParse returned {parsed} with target {target} and problem {problem}");
        if (expected is not null)
        {
            FuzzFinding.Require(parsed && target!.Equals(expected) && target.Host == expected.Host, $"a valid target parsed to {target?.Host}:{target?.Port} ({problem}), not {expected.Host}:{expected.Port}");
            FuzzFinding.Require(target?.ToString() == text, $"a valid target writes back as {target}");
        }

        if (!parsed)
        {
            FuzzFinding.Require(problem!.StartsWith($"\"{text}\"", StringComparison.Ordinal), $"the problem does not quote the target: {problem}");
        }
        else
        {
            CheckAccepted(text, target!);
        }

        if (TargetParser.TryParseAddress(text, out var address))
        {
            CheckDecimal(text, address);
        }
    }

    private static void CheckAccepted(string text, TargetConfig target)
    {
        FuzzFinding.Require(target.Port is >= 1 and <= 65535 && target.Host.Length > 0, $"accepted host \"{target.Host}\" port {target.Port}");
        FuzzFinding.Require(TargetParser.TryParse(target.ToString(), out var again, out _) && again.Equals(target) && again.Key == target.Key, $"{target} does not parse back to itself");
        FuzzFinding.Require(target.Address is null || target.Address.AddressFamily == AddressFamily.InterNetworkV6 == text.StartsWith('['), $"{text}: an IP literal of the wrong form ({target.Address})");
        FuzzFinding.Require(TargetParser.TryParseAddress(target.Host, out _) == target.Address is not null, $"\"{target.Host}\" is an IP literal to the target ({target.Address}) but not to Bind, or the reverse");
        if (target.Address is { } address)
        {
            CheckDecimal(target.Host, address);
        }
    }

    /// <summary>A dotted quad is read in decimal: "010.0.0.1" is 10.0.0.1 or nothing, never 8.0.0.1 as inet_aton reads it.</summary>
    private static void CheckDecimal(string text, IPAddress address)
    {
        var parts = text.Split('.');
        if (parts.Length == 4 && parts.All(static p => p.Length > 0 && p.All(char.IsAsciiDigit)))
        {
            var expected = parts.Select(static p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
            FuzzFinding.Require(address.AddressFamily == AddressFamily.InterNetwork && address.GetAddressBytes().Select(static b => (int)b).SequenceEqual(expected),
                $"\"{text}\" reads as {address}");
        }
    }

    /// <summary>
    /// DNS names: labels of letters, digits, '-' and '_', up to 63 characters, 253 in all, maybe a
    /// trailing dot; not those IPAddress reads as an address ("0x0"), which are refused.
    /// </summary>
    private static Gen<object> HostName()
    {
        var label = Gen.Frequency((6, Gen.String[Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"], 1, 12]), (1, Gen.Const(new string('l', 63))));
        return Gen.Select(label.Array[1, 4], Gen.Bool, static (labels, dot) => string.Join('.', labels) + (dot ? "." : string.Empty))
            .Where(static name => name.TrimEnd('.').Length <= 253 && !name.TrimEnd('.').All(static c => c == '.' || char.IsAsciiDigit(c)) && !IPAddress.TryParse(name, out _))
            .Select(static name => (object)name);
    }

    /// <summary>Mostly zero groups, so that "::" falls everywhere; never IPv4-mapped or -compatible (written with a dotted quad).</summary>
    private static object ZeroHeavy(byte[] bytes)
    {
        for (var g = 0; g < 8; g++)
        {
            if (bytes[2 * g] % 3 != 0)
            {
                bytes[2 * g] = 0;
                bytes[(2 * g) + 1] = 0;
            }
        }

        bytes[0] |= 0x20;
        return bytes;
    }

    /// <summary>A text to parse, and the target it must give when it is valid by construction (else null).</summary>
    private readonly record struct Case(string Text, TargetConfig? Expected);
}

using System.Buffers;
using CsCheck;
using FProxy.Routing;
using FProxy.Tests.Routing;

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// <see cref="ClientHelloParser"/> on any bytes, in any segments: never throws, decides the same
/// however the bytes are split, never takes a decision back when more bytes arrive, and reads
/// the name of every well-formed hello.
/// </summary>
[Category("Fuzz")]
internal sealed class ClientHelloFuzzTests
{
    private const string Target = "clienthello";

    /// <summary>Fields a mutation may write over a length or type: record header, handshake type, lengths.</summary>
    private static readonly byte[][] Tokens =
        [[0x16, 0x03, 0x01], [0x16], [0x01], [0x00], [0xFF], [0x00, 0x00], [0xFF, 0xFF], [0x40, 0x00], [0x3F, 0xFF], [0x00, 0x00, 0x00], [0x03, 0x04], [0x7F], [0x80]];

    /// <summary>Well-formed hellos: a name of any printable ASCII (or none), in one to five records, maybe padded, maybe followed by the client's next record.</summary>
    private static readonly Gen<Case> Valid =
        Gen.Select(
            Gen.Frequency((4, Gen.String[Gen.Char['!', '~'], 1, 40]), (1, Gen.String[Gen.Char['!', '~'], 200, 255]), (1, Gen.Const(static () => (string)null!))),
            Gen.Int[0, 400].Array[0, 4],
            Gen.Frequency((3, Gen.Const(0)), (1, Gen.Int[1, 3000])),
            Gen.Bool,
            Gen.Int[1, 17],
            Gen.Int[0, int.MaxValue],
            static (name, splits, padding, trailer, chunk, cut) =>
            {
                var handshake = ClientHelloBuilder.BuildHandshake(name, padding);
                var splitAt = splits.Where(s => s > 0 && s < handshake.Length).Distinct().Order().ToArray();
                byte[] bytes = [.. ClientHelloBuilder.WrapInRecords(handshake, splitAt), .. trailer ? new byte[] { 0x17, 0x03, 0x03, 0x00, 0x01, 0xFF } : []];
                var expected = name is null ? SniParseResult.NoServerName : SniParseResult.Found;
                return new Case(bytes, chunk, cut % (bytes.Length + 1), expected, name?.ToLowerInvariant());
            });

    /// <summary>Random bytes, half of them behind a handshake record header so that they get past the first byte.</summary>
    private static readonly Gen<Case> Random =
        Gen.Select(Gen.Byte.Array[0, 400], Gen.Bool, Gen.Int[1, 17], Gen.Int[0, int.MaxValue], static (bytes, header, chunk, cut) =>
        {
            if (header && bytes.Length >= 6)
            {
                bytes[0] = 0x16;
                bytes[1] = 0x03;
                bytes[2] = 0x01;
                bytes[5] = 0x01;
            }

            return new Case(bytes, chunk, cut % (bytes.Length + 1), null, null);
        });

    [Test]
    public void TryReadServerName_AnyBytes_DecidesOnceAndAlike()
    {
        var mutated = Gen.Select(Mutations<byte>.Of(Corpus.Bytes(Target), Tokens, Gen.Byte), Gen.Int[1, 17], Gen.Int[0, int.MaxValue],
            static (bytes, chunk, cut) => new Case(bytes, chunk, cut % (bytes.Length + 1), null, null));
        Fuzz.Check(Target, Gen.Frequency((2, Valid), (1, Random), (3, mutated)), Check, iterations: 30_000, print: static c => c.ToString());
    }

    [Test]
    public void TryReadServerName_EveryTruncationAndSplitOfTheCorpus_DecidesOnceAndAlike() =>
        Fuzz.Each(Target, Corpus.Bytes(Target).SelectMany(static bytes => Enumerable.Range(0, bytes.Length + 1).Select(cut => new Case(bytes, (cut % 17) + 1, cut, null, null))),
            static c =>
            {
                Check(c);
                var split = Parse(Segments.At(c.Bytes, [c.Cut]), out var name);
                FuzzFinding.Require(split == Parse(new ReadOnlySequence<byte>(c.Bytes), out var whole) && name == whole, $"split at {c.Cut}: {split} {name}, whole: {whole}");
            },
            static c => c.ToString());

    private static void Check(Case c)
    {
        var result = Parse(new ReadOnlySequence<byte>(c.Bytes), out var name);
        FuzzFinding.Require(Enum.IsDefined(result) && (name is not null) == (result == SniParseResult.Found), $"{result} with name {name}");
        if (name is not null)
        {
            FuzzFinding.Require(name.Length is >= 1 and <= 255 && name.All(static ch => ch is > ' ' and < '\u007f' and not (>= 'A' and <= 'Z')), $"name \"{name}\" is not lower-case printable ASCII");
        }

        var segmented = Parse(Segments.Split(c.Bytes, c.Chunk), out var segmentedName);
        FuzzFinding.Require(segmented == result && segmentedName == name, $"in segments of {c.Chunk}: {segmented} {segmentedName}, whole: {result} {name}");

        // A decision stands: once a prefix is NotTls, NoServerName or Found, more bytes change nothing.
        var prefix = Parse(new ReadOnlySequence<byte>(c.Bytes, 0, c.Cut), out var prefixName);
        FuzzFinding.Require(prefix == SniParseResult.NeedMoreData || (prefix == result && prefixName == name), $"the first {c.Cut} bytes: {prefix} {prefixName}, all: {result} {name}");

        if (c.Expected is { } expected)
        {
            FuzzFinding.Require(result == expected && name == c.ExpectedName, $"a well-formed hello: {result} {name}, expected {expected} {c.ExpectedName}");
        }
    }

    private static SniParseResult Parse(ReadOnlySequence<byte> bytes, out string? name) => ClientHelloParser.TryReadServerName(bytes, out name);

    /// <summary>Bytes to parse whole, in segments of <paramref name="Chunk"/> and cut at <paramref name="Cut"/>; what a well-formed hello must give.</summary>
    private sealed record Case(byte[] Bytes, int Chunk, int Cut, SniParseResult? Expected, string? ExpectedName)
    {
        public override string ToString() =>
            $"{FuzzPrint.Bytes(Bytes)}, segments of {Chunk}, cut at {Cut}" + (Expected is null ? string.Empty : $", expected {Expected} {ExpectedName}");
    }
}

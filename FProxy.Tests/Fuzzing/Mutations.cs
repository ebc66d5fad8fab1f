using CsCheck;

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// Mutates seed inputs the way coverage-blind fuzzers do: one to four edits of a seed from the
/// corpus, each replacing, inserting, deleting, repeating or cutting elements, or splicing in
/// an entry of a dictionary of tokens the target cares about (lengths, keywords, separators).
/// </summary>
/// <typeparam name="T">byte for binary inputs, char for text.</typeparam>
internal static class Mutations<T>
{
    private const int Kinds = 7;

    /// <summary>Mutants of <paramref name="seeds"/>; <paramref name="element"/> makes a random element.</summary>
    public static Gen<T[]> Of(IReadOnlyList<T[]> seeds, IReadOnlyList<T[]> dictionary, Gen<T> element)
    {
        var edit = Gen.Select(Gen.Int[0, Kinds - 1], Gen.Int[0, int.MaxValue], Gen.Int[1, 16], element, Gen.Int[0, dictionary.Count - 1],
            static (kind, at, length, value, token) => new Edit(kind, at, length, value, token));
        return Gen.Select(Gen.Int[0, seeds.Count - 1], edit.Array[1, 4], (seed, edits) => Apply(seeds[seed], edits, dictionary));
    }

    private static T[] Apply(T[] seed, Edit[] edits, IReadOnlyList<T[]> dictionary)
    {
        var data = new List<T>(seed);
        foreach (var edit in edits)
        {
            var at = data.Count == 0 ? 0 : edit.At % (data.Count + 1);
            var length = Math.Min(edit.Length, data.Count - at);
            switch (edit.Kind)
            {
                case 0 when at < data.Count:
                    data[at] = edit.Value;
                    break;
                case 1:
                    data.InsertRange(at, Enumerable.Repeat(edit.Value, edit.Length));
                    break;
                case 2:
                    data.RemoveRange(at, length);
                    break;
                case 3:
                    data.InsertRange(at, data.GetRange(at, length));
                    break;
                case 4:
                    data.RemoveRange(at, data.Count - at);
                    break;
                case 5:
                    data.InsertRange(at, dictionary[edit.Token]);
                    break;
                default:
                    // Overwrite with a token: a length field or keyword replaced in place.
                    var token = dictionary[edit.Token];
                    data.RemoveRange(at, Math.Min(token.Length, data.Count - at));
                    data.InsertRange(at, token);
                    break;
            }
        }

        return [.. data];
    }

    private readonly record struct Edit(int Kind, int At, int Length, T Value, int Token);
}

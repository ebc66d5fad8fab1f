namespace FProxy.Configuration;

/// <summary>
/// Suggests the known key closest to a misspelt one ("ConnectTimout" -> "ConnectTimeout"),
/// by optimal-string-alignment distance (Levenshtein plus adjacent swaps), ignoring case.
/// </summary>
internal static class KeyHint
{
    /// <summary>Largest distance at which a known key is still suggested.</summary>
    public const int MaxDistance = 2;

    /// <summary>The closest of <paramref name="known"/> within <see cref="MaxDistance"/>, or null.</summary>
    public static string? Suggest(string key, IReadOnlyList<string> known)
    {
        string? best = null;
        var bestDistance = MaxDistance + 1;
        foreach (var candidate in known)
        {
            var distance = Distance(key, candidate);
            if (distance < bestDistance)
            {
                best = candidate;
                bestDistance = distance;
            }
        }

        return best;
    }

    /// <summary>Case-insensitive optimal-string-alignment distance between two strings.</summary>
    public static int Distance(string a, string b)
    {
        // Three rows suffice: the transposition case looks two rows back.
        var previous2 = new int[b.Length + 1];
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            var ca = char.ToUpperInvariant(a[i - 1]);
            for (var j = 1; j <= b.Length; j++)
            {
                var cb = char.ToUpperInvariant(b[j - 1]);
                var cost = ca == cb ? 0 : 1;
                var value = Math.Min(Math.Min(previous[j] + 1, current[j - 1] + 1), previous[j - 1] + cost);
                if (i > 1 && j > 1 && ca == char.ToUpperInvariant(b[j - 2]) && char.ToUpperInvariant(a[i - 2]) == cb)
                {
                    value = Math.Min(value, previous2[j - 2] + 1);
                }

                current[j] = value;
            }

            (previous2, previous, current) = (previous, current, previous2);
        }

        return previous[b.Length];
    }
}

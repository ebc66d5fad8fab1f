using System.Text.Json;

namespace FProxy.Configuration;

/// <summary>
/// Reads the properties of a JSON object against a fixed set of keys, matching names
/// case-insensitively, and reports unknown keys (with a hint) and keys given twice.
/// </summary>
internal static class JsonKeys
{
    /// <summary>
    /// Returns the object's properties by their canonical (known) name. Problems are added to
    /// <paramref name="problems"/> without a location prefix; the caller adds it.
    /// </summary>
    /// <param name="obj">A JSON object.</param>
    /// <param name="known">The keys allowed, spelt as documented.</param>
    /// <param name="where">Appended to unknown-key messages, e.g. <c> in "KeepAlive"</c>; empty at top level.</param>
    /// <param name="problems">Receives one message per problem.</param>
    public static Dictionary<string, JsonElement> Read(JsonElement obj, IReadOnlyList<string> known, string where, List<string> problems)
    {
        var found = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        var spelling = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            var canonical = Find(property.Name, known);
            if (canonical is null)
            {
                var hint = KeyHint.Suggest(property.Name, known);
                problems.Add(hint is null
                    ? $"unknown key \"{property.Name}\"{where}"
                    : $"unknown key \"{property.Name}\"{where} (did you mean \"{hint}\"?)");
            }
            else if (spelling.TryGetValue(canonical, out var first))
            {
                problems.Add(first == property.Name
                    ? $"key \"{property.Name}\"{where} is given twice"
                    : $"key \"{property.Name}\"{where} is given twice (also as \"{first}\"; keys ignore case)");
            }
            else
            {
                spelling.Add(canonical, property.Name);
                found.Add(canonical, property.Value);
            }
        }

        return found;
    }

    private static string? Find(string name, IReadOnlyList<string> known)
    {
        foreach (var key in known)
        {
            if (string.Equals(name, key, StringComparison.OrdinalIgnoreCase))
            {
                return key;
            }
        }

        return null;
    }
}

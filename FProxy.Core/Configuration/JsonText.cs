using System.Text.Json;

namespace FProxy.Configuration;

/// <summary>
/// Finds what System.Text.Json reports outside <see cref="JsonException"/>: text that is not
/// Unicode. A lone UTF-16 surrogate in the string makes <see cref="JsonDocument.Parse(string, JsonDocumentOptions)"/>
/// throw an <see cref="ArgumentException"/>; one written as an escape (<c>"\ud800"</c>) is valid
/// JSON syntax, and <see cref="JsonElement.GetString"/> throws an <see cref="InvalidOperationException"/>
/// on it later, wherever the config is read. Both are found before reading, with their place,
/// in the words of a JSON error (found by the config fuzz tests).
/// </summary>
internal static class JsonText
{
    /// <summary>"invalid JSON at line L, column C: ..." for the first lone surrogate in <paramref name="json"/>, or null.</summary>
    public static string? FindLoneSurrogate(string json)
    {
        for (var i = 0; i < json.Length; i++)
        {
            if (char.IsHighSurrogate(json[i]) && i + 1 < json.Length && char.IsLowSurrogate(json[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(json[i]))
            {
                var lineStart = json.AsSpan(0, i).LastIndexOf('\n') + 1;
                return Problem(json.AsSpan(0, i).Count('\n') + 1, i - lineStart + 1, $"a lone UTF-16 surrogate (U+{(int)json[i]:X4}), which is not text");
            }
        }

        return null;
    }

    /// <summary>
    /// "invalid JSON at line L, column C: ..." for the first string or key of <paramref name="utf8"/>
    /// (valid JSON) whose escapes make a lone surrogate, or null. Columns count bytes, as a <see cref="JsonException"/>'s do.
    /// </summary>
    public static string? FindUndecodableString(byte[] utf8, JsonDocumentOptions options)
    {
        // Only an escape can make a lone surrogate in UTF-8 text that transcoded without error.
        if (utf8.AsSpan().IndexOf("\\u"u8) < 0)
        {
            return null;
        }

        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions
        {
            CommentHandling = options.CommentHandling,
            AllowTrailingCommas = options.AllowTrailingCommas,
            MaxDepth = options.MaxDepth,
        });
        while (reader.Read())
        {
            if (reader.TokenType is JsonTokenType.String or JsonTokenType.PropertyName && reader.ValueIsEscaped && !CanDecode(ref reader))
            {
                var at = (int)reader.TokenStartIndex;
                var lineStart = utf8.AsSpan(0, at).LastIndexOf((byte)'\n') + 1;
                var what = reader.TokenType == JsonTokenType.PropertyName ? "a key" : "a string";
                return Problem(utf8.AsSpan(0, at).Count((byte)'\n') + 1, at - lineStart + 1, $"{what} with an escaped UTF-16 surrogate that has no pair, which is not text");
            }
        }

        return null;
    }

    private static bool CanDecode(ref Utf8JsonReader reader)
    {
        try
        {
            _ = reader.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static string Problem(int line, int column, string reason) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"invalid JSON at line {line}, column {column}: {reason}");
}

using System.Text.Encodings.Web;
using System.Text.Json;
using FProxy.Configuration;
using FProxy.FTest.Net;

namespace FProxy.FTest.Fleet;

/// <summary>
/// A config.json split into the values <c>ftest fleet push</c> stores: one per app, the JSON of
/// one element of its <c>Apps</c>. The whole file is validated first, as fproxy would load it, so
/// a file that one node would reject is never pushed to all of them.
/// </summary>
internal static class AppFile
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        // As ConfigParser reads it: a file it accepts must split too.
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = true,
        // The values are read by fproxy and by people with etcdctl, never embedded in HTML:
        // "a+b" stays "a+b", not "a\u002Bb".
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Reads and validates <paramref name="path"/>; returns each app's name and stored value, in file order.</summary>
    /// <exception cref="ToolException">The file cannot be read (exit 1) or is invalid (exit 2, every problem listed).</exception>
    public static IReadOnlyList<KeyValuePair<string, string>> Read(string path)
    {
        string json;
        try
        {
            json = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ToolException($"cannot read {path}: {e.Message}");
        }

        ProxyConfig config;
        try
        {
            config = ConfigParser.Parse(json, path);
        }
        catch (ConfigException e)
        {
            // One line like every ftest error; fproxy --check prints the same problems one per line.
            throw new ToolException($"{path} is invalid, nothing pushed: " + string.Join("; ", e.Errors), ExitCodes.InvalidConfig);
        }

        using var document = JsonDocument.Parse(json, DocumentOptions);
        var elements = AppsArray(document.RootElement).EnumerateArray().ToList();
        if (elements.Count != config.Apps.Count)
        {
            throw new InvalidOperationException($"{path}: {elements.Count} elements in Apps but {config.Apps.Count} apps parsed");
        }

        var apps = new List<KeyValuePair<string, string>>(elements.Count);
        var problems = new List<string>();
        for (var i = 0; i < elements.Count; i++)
        {
            // The parser keeps the file's order, so element i is app i.
            var name = config.Apps[i].Name;
            if (name.Contains('/', StringComparison.Ordinal) || name.Any(char.IsWhiteSpace))
            {
                // The key's last segment is the app's name: a slash would nest it, and nodes would refuse it.
                problems.Add($"Apps[{i}] \"{name}\": a name stored in etcd may not contain '/' or whitespace");
                continue;
            }

            apps.Add(new(name, Normalize(elements[i])));
        }

        if (problems.Count > 0)
        {
            throw new ToolException($"{path} cannot be pushed, nothing pushed: " + string.Join("; ", problems), ExitCodes.InvalidConfig);
        }

        return apps;
    }

    /// <summary>
    /// The app as stored: indented JSON without the file's comments. Stored values depend only on
    /// what the app says, so a push after editing a comment or the indentation changes nothing
    /// and no node reloads.
    /// </summary>
    internal static string Normalize(JsonElement app)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            app.WriteTo(writer);
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    /// <summary>The root's "Apps", matched case-insensitively as the parser does (which has checked it is there and an array).</summary>
    private static JsonElement AppsArray(JsonElement root)
    {
        foreach (var property in root.EnumerateObject())
        {
            if (string.Equals(property.Name, "Apps", StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        throw new InvalidOperationException("validated config without \"Apps\"");
    }
}

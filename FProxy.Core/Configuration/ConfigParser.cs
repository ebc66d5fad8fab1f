using System.Text;
using System.Text.Json;

namespace FProxy.Configuration;

/// <summary>Parses and validates configuration JSON into a <see cref="ProxyConfig"/>.</summary>
/// <remarks>
/// Property names are case-insensitive at every level; <c>//</c> and <c>/* */</c> comments and
/// trailing commas are allowed. Validation collects every problem before failing, each message
/// naming its place (<c>Apps[1] "six-thousand": port 5001 is already used by app "five-thousand"</c>).
/// </remarks>
public static partial class ConfigParser
{
    private const int MaxShownLength = 40;

    private static readonly string[] RootKeys = ["Apps"];

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        CommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    /// <summary>
    /// Parses <paramref name="json"/> and validates the whole snapshot, collecting every error.
    /// </summary>
    /// <param name="json">The configuration text.</param>
    /// <param name="source">Where it came from (a file path), for messages.</param>
    /// <param name="schema">
    /// The strategy and probe names the config may use; <see cref="ConfigSchema.Default"/> (the
    /// built-ins) when null. A daemon with custom registrations passes its own
    /// (<see cref="Daemon.ProxyDaemon.Schema"/>).
    /// </param>
    /// <returns>The validated snapshot.</returns>
    /// <exception cref="ConfigException">The text is not valid JSON or the configuration is invalid.</exception>
    public static ProxyConfig Parse(string json, string source = "config", ConfigSchema? schema = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);

        using (var document = ParseDocument(json, source))
        {
            var errors = new List<string>();
            schema ??= ConfigSchema.Default;
            var config = ReadRoot(document.RootElement, schema, errors);
            if (errors.Count > 0 || config is null)
            {
                throw new ConfigException(source, errors);
            }

            // What the file said is read; the rules every source meets are checked as for any other.
            ConfigValidator.ThrowIfInvalid(config, source, schema);
            return config;
        }
    }

    /// <summary>
    /// Parses and validates one app: the JSON of one element of <c>Apps</c> (an etcd key's value),
    /// with the same keys, defaults and messages as in a whole config. Rules across apps (unique
    /// names and ports) are the caller's to check.
    /// </summary>
    /// <param name="json">One app object.</param>
    /// <param name="source">Where it came from (an etcd key), the message prefix.</param>
    /// <param name="schema">The strategy and probe names the app may use; the built-ins when null.</param>
    /// <returns>The validated app.</returns>
    /// <exception cref="ConfigException">The text is not valid JSON or the app is invalid; every problem is listed.</exception>
    public static AppConfig ParseApp(string json, string source = "app", ConfigSchema? schema = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        ArgumentNullException.ThrowIfNull(source);

        using (var document = ParseDocument(json, source))
        {
            var errors = new List<string>();
            schema ??= ConfigSchema.Default;
            var app = ReadApp(document.RootElement, -1, schema, [], new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase), errors);
            if (errors.Count > 0 || app is null)
            {
                throw new ConfigException(source, errors);
            }

            var problems = ConfigValidator.ValidateApp(app, schema);
            if (problems.Count > 0)
            {
                throw new ConfigException(source, problems);
            }

            return app;
        }
    }

    private static ProxyConfig? ReadRoot(JsonElement root, ConfigSchema schema, List<string> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors.Add($"the root must be an object like {{\"Apps\": [...]}}, got {Show(root)}");
            return null;
        }

        var keys = JsonKeys.Read(root, RootKeys, string.Empty, errors);
        if (!keys.TryGetValue("Apps", out var apps))
        {
            errors.Add("missing \"Apps\"");
            return null;
        }

        if (apps.ValueKind != JsonValueKind.Array)
        {
            errors.Add($"\"Apps\" must be an array, got {Show(apps)}");
            return null;
        }

        var result = new List<AppConfig>();
        // Ports and names are unique across apps: who claimed each first, for messages.
        var portOwners = new Dictionary<long, string>();
        var nameOwners = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var index = 0;
        foreach (var app in apps.EnumerateArray())
        {
            if (ReadApp(app, index, schema, portOwners, nameOwners, errors) is { } parsed)
            {
                result.Add(parsed);
            }

            index++;
        }

        return new ProxyConfig { Apps = new EquatableList<AppConfig>(result) };
    }

    /// <summary>The text as a document, or a <see cref="ConfigException"/> saying where the JSON breaks.</summary>
    private static JsonDocument ParseDocument(string json, string source)
    {
        // Text that is not Unicode makes System.Text.Json throw other exceptions, some only once a
        // string is read: it is refused here first, like any other bad JSON (JsonText says how).
        if (JsonText.FindLoneSurrogate(json) is { } lone)
        {
            throw new ConfigException(source, [lone]);
        }

        var utf8 = Encoding.UTF8.GetBytes(json);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new ConfigException(source, [DescribeJsonError(e)]);
        }

        if (JsonText.FindUndecodableString(utf8, DocumentOptions) is { } escaped)
        {
            document.Dispose();
            throw new ConfigException(source, [escaped]);
        }

        return document;
    }

    /// <summary>"invalid JSON at line 3, column 7: reason", 1-based, without the exception's own position suffix.</summary>
    private static string DescribeJsonError(JsonException e)
    {
        var line = (e.LineNumber ?? 0) + 1;
        var column = (e.BytePositionInLine ?? 0) + 1;
        var reason = e.Message;
        var suffix = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (suffix >= 0)
        {
            reason = reason[..suffix];
        }

        return $"invalid JSON at line {line}, column {column}: {reason.Trim()}";
    }

    /// <summary>A JSON value as written, shortened for messages.</summary>
    private static string Show(JsonElement element)
    {
        var text = element.GetRawText();
        return text.Length <= MaxShownLength ? text : string.Concat(text.AsSpan(0, MaxShownLength - 3), "...");
    }

    /// <summary>A JSON number with no fractional part, clamped to the range of long.</summary>
    private static bool TryGetWholeNumber(JsonElement element, out long value)
    {
        value = 0;
        if (element.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        if (element.TryGetInt64(out value))
        {
            return true;
        }

        // 5e3 or a huge integer: whole, but not a plain long.
        if (element.TryGetDouble(out var number) && double.IsFinite(number) && Math.Floor(number) == number)
        {
            value = number >= long.MaxValue ? long.MaxValue : number <= long.MinValue ? long.MinValue : (long)number;
            return true;
        }

        return false;
    }
}

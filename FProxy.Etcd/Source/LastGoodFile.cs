using System.Globalization;
using System.Text;
using System.Text.Json;
using FProxy.Configuration;

namespace FProxy.Etcd.Source;

/// <summary>
/// The config a node served last, kept on disk so a restart while etcd is down still serves: a
/// config file like any other (usable with the file source), with the etcd revision it came from
/// on its first line, a comment. Written atomically: a temp file, fsync, then a rename over the old one.
/// </summary>
internal static class LastGoodFile
{
    public const string FileName = "last-good.json";

    private const string Marker = "// fproxy last good config from etcd: revision ";

    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public static string PathIn(string directory) => Path.Combine(directory, FileName);

    /// <summary>Writes the apps served at <paramref name="revision"/>; a crash at any point leaves the old copy or the new one, never half of one.</summary>
    public static async Task WriteAsync(string directory, long revision, string nodeId, DateTimeOffset time, IReadOnlyList<AppVersion> apps, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory);
        var text = new StringBuilder()
            .Append(Marker).Append(revision.ToString(CultureInfo.InvariantCulture))
            .Append(", node ").Append(nodeId).Append(", written ").Append(time.ToString("O", CultureInfo.InvariantCulture)).Append('\n')
            .Append("{\"Apps\": [\n");
        for (var i = 0; i < apps.Count; i++)
        {
            // The comma goes on a line of its own: a value may end in a // comment.
            text.Append(i == 0 ? string.Empty : ",\n").Append(apps[i].Json.Trim()).Append('\n');
        }

        text.Append("]}\n");
        var path = PathIn(directory);
        // Unique per process: two processes sharing a state directory (a handover) never write one temp file.
        var temp = $"{path}.{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.tmp";
        var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            await stream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken).ConfigureAwait(false);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    /// <summary>The copy in <paramref name="directory"/>, or null when there is none.</summary>
    /// <exception cref="ConfigException">The copy exists but is not a valid config (it was edited, or the schema changed).</exception>
    public static LastGood? Read(string directory, ConfigSchema schema)
    {
        var path = PathIn(directory);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (DirectoryNotFoundException)
        {
            return null;
        }

        var config = ConfigParser.Parse(text, path, schema);
        long revision = 0;
        if (text.StartsWith(Marker, StringComparison.Ordinal))
        {
            var digits = text.AsSpan(Marker.Length);
            var end = 0;
            while (end < digits.Length && char.IsAsciiDigit(digits[end]))
            {
                end++;
            }

            _ = long.TryParse(digits[..end], NumberStyles.None, CultureInfo.InvariantCulture, out revision);
        }

        // The parsed apps are in file order; pair each with its JSON for the next write and for seeding.
        using var document = JsonDocument.Parse(text, DocumentOptions);
        var elements = document.RootElement.EnumerateObject()
            .First(static p => p.Name.Equals("Apps", StringComparison.OrdinalIgnoreCase)).Value.EnumerateArray().ToArray();
        var apps = new List<AppVersion>(config.Apps.Count);
        for (var i = 0; i < config.Apps.Count; i++)
        {
            apps.Add(new AppVersion(config.Apps[i], elements[i].GetRawText()));
        }

        return new LastGood(path, revision, config, apps);
    }
}

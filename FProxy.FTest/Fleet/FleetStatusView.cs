using System.Globalization;
using System.Text;
using System.Text.Json;
using FProxy.Etcd;
using FProxy.Diagnostics;

namespace FProxy.FTest.Fleet;

/// <summary>
/// <c>ftest fleet status</c> as text (aligned columns, then each node's errors, then a summary) or
/// as JSON. Plain text rather than a Spectre table: it is read by scripts and grep as often as by
/// people, and a table would wrap long error messages at the terminal's width.
/// </summary>
internal static class FleetStatusView
{
    private static readonly string[] Headers = ["NODE", "APPLIED", "LAG", "READY", "APPS", "VERSION", "HASH", "ERRORS"];

    /// <summary>How many characters of the config hash to show: enough to tell configs apart.</summary>
    private const int ShortHash = 12;

    public static string Text(FleetStatus status, string endpoints, string prefix)
    {
        var text = new StringBuilder();
        text.AppendLine($"etcd {endpoints}, prefix {prefix}: {Counted.Of(status.AppCount, "app")}, last changed at revision {status.AppsRevision} (store at {status.Revision})");
        if (status.Nodes.Count == 0)
        {
            text.AppendLine($"no nodes reported under {EtcdLayout.NodesPrefix(prefix)}");
            return text.ToString();
        }

        var rows = new List<string[]> { Headers };
        rows.AddRange(status.Nodes.Select(static n => n.Report is { } r
            ? new[]
            {
                n.Id, r.AppliedRevision.ToString(CultureInfo.InvariantCulture), n.Lag.ToString(CultureInfo.InvariantCulture), r.Ready ? "yes" : "no", r.Apps.ToString(CultureInfo.InvariantCulture),
                r.ConfigVersion.ToString(CultureInfo.InvariantCulture), r.ConfigHash.Length > ShortHash ? r.ConfigHash[..ShortHash] : r.ConfigHash, r.Errors.Count.ToString(CultureInfo.InvariantCulture),
            }
            : [n.Id, "?", "?", "?", "?", "?", "?", "unreadable report"]));
        var widths = Enumerable.Range(0, Headers.Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        foreach (var row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((cell, c) => c == row.Length - 1 ? cell : cell.PadRight(widths[c]))).TrimEnd());
        }

        foreach (var node in status.Nodes)
        {
            foreach (var (app, message) in node.Report?.Errors.OrderBy(static e => e.Key, StringComparer.Ordinal) ?? Enumerable.Empty<KeyValuePair<string, string>>())
            {
                text.AppendLine($"{node.Id}: app \"{app}\": {message}");
            }
        }

        var behind = status.Nodes.Count(static n => n.Report is null || n.Lag > 0);
        var notReady = status.Nodes.Count(static n => n.Report is not { Ready: true });
        var withErrors = status.Nodes.Count(static n => n.Report is { Errors.Count: > 0 });
        text.AppendLine($"{Counted.Of(status.Nodes.Count, "node")}: {status.Nodes.Count - behind} up to date, {behind} behind, {notReady} not ready, {withErrors} with errors");
        return text.ToString();
    }

    public static string Json(FleetStatus status, string endpoints, string prefix)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("endpoints", endpoints);
            json.WriteString("prefix", prefix);
            json.WriteNumber("revision", status.Revision);
            json.WriteNumber("appsRevision", status.AppsRevision);
            json.WriteNumber("apps", status.AppCount);
            json.WriteStartArray("nodes");
            foreach (var node in status.Nodes)
            {
                json.WriteStartObject();
                json.WriteString("nodeId", node.Id);
                if (node.Report is { } report)
                {
                    json.WriteNumber("appliedRevision", report.AppliedRevision);
                    json.WriteNumber("lag", node.Lag);
                    json.WriteBoolean("ready", report.Ready);
                    json.WriteNumber("apps", report.Apps);
                    json.WriteNumber("configVersion", report.ConfigVersion);
                    json.WriteString("configHash", report.ConfigHash);
                    json.WriteStartObject("errors");
                    foreach (var (app, message) in report.Errors.OrderBy(static e => e.Key, StringComparer.Ordinal))
                    {
                        json.WriteString(app, message);
                    }

                    json.WriteEndObject();
                    json.WriteString("time", report.Time);
                }
                else
                {
                    json.WriteBoolean("unreadable", true);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}

using System.Text.Json;
using System.Text.Json.Serialization;

namespace FProxy.Etcd;

/// <summary>
/// What one node says it serves, kept at <c>&lt;prefix&gt;/nodes/&lt;node-id&gt;</c> on a lease, so a
/// control plane can tell when a change has reached every node (<c>ftest fleet wait</c>).
/// </summary>
/// <param name="NodeId">The node's id.</param>
/// <param name="AppliedRevision">The etcd revision of the last change under <c>apps/</c> this node has applied (its own report writes do not count).</param>
/// <param name="Ready">Whether the node's readiness check passes.</param>
/// <param name="ConfigVersion">The node's config version (1 for the first applied, +1 for each after).</param>
/// <param name="ConfigHash">The hash of the config in force, equal on nodes that serve the same config.</param>
/// <param name="Apps">How many apps the node serves.</param>
/// <param name="Errors">Rejected apps: the app's name to the reason.</param>
/// <param name="Time">When the report was written.</param>
public sealed record NodeReport(
    string NodeId,
    long AppliedRevision,
    bool Ready,
    long ConfigVersion,
    string ConfigHash,
    int Apps,
    IReadOnlyDictionary<string, string> Errors,
    DateTimeOffset Time)
{
    /// <summary>The report as stored: JSON with camel-case names.</summary>
    /// <returns>The JSON text.</returns>
    public string ToJson() => JsonSerializer.Serialize(this, NodeReportJson.Default.NodeReport);

    /// <summary>Reads a stored report.</summary>
    /// <param name="json">The value of a <c>nodes/</c> key.</param>
    /// <returns>The report, or null when the value is not one.</returns>
    public static NodeReport? FromJson(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, NodeReportJson.Default.NodeReport);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(NodeReport))]
internal sealed partial class NodeReportJson : JsonSerializerContext;

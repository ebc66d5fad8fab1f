using System.Text.Json.Serialization;
using FProxy.Configuration;
using FProxy.Daemon;

namespace FProxy.Host.Admin;

// The admin endpoint's wire format, kept apart from FProxy.Core's status records so that a new
// field in the library is a deliberate change here rather than a silent change on the wire.
// docs/operations.md ("Admin endpoint") documents every field.

/// <summary>GET /readyz.</summary>
internal sealed record ReadinessJson(bool Ready, IReadOnlyList<string> Reasons, IReadOnlyList<int> UnboundPorts)
{
    public static ReadinessJson From(Readiness readiness) => new(readiness.Ready, readiness.Reasons, readiness.UnboundPorts);
}

/// <summary>GET /apps.</summary>
internal sealed record StatusJson(long Version, string Hash, DateTimeOffset? AppliedAt, SourceJson Source, IReadOnlyList<AppJson> Apps)
{
    public static StatusJson From(DaemonStatus status, SourceJson source) => new(
        status.Version,
        status.Hash,
        status.AppliedAt,
        source,
        [.. status.Apps.Select(static a => new AppJson(
            a.Name,
            a.Strategy,
            [.. a.Ports.Select(static p => new PortJson(p.Port, StateName(p.State), p.Error))],
            [.. a.Targets.Select(static t => new TargetJson(t.Address, t.Weight, t.Healthy, t.Ejected, t.ActiveConnections, t.BytesClientToTarget, t.BytesTargetToClient))],
            a.ActiveConnections,
            a.BytesClientToTarget,
            a.BytesTargetToClient))]);

    private static string StateName(ListenerState state) => state switch
    {
        ListenerState.Bound => "bound",
        ListenerState.Retrying => "retrying",
        _ => state.ToString().ToLowerInvariant(),
    };
}

/// <summary>Where the config comes from: "file" or "etcd" (connected, revision, last sync, rejected apps).</summary>
internal sealed record SourceJson(string Type, bool Connected, long? Revision, DateTimeOffset? LastSync, IReadOnlyDictionary<string, string> Rejected)
{
    private static readonly Dictionary<string, string> None = [];

    public static SourceJson From(IConfigSubscriber source, DaemonStatus status) => source switch
    {
        IConfigSourceStatus known when known.GetSourceStatus() is { } s => new(s.Source, s.Connected, s.Revision, s.LastSync, s.Rejected),

        // The file is read where it lies: always "connected", synced when last applied.
        FileConfigSubscriber => new("file", true, null, status.AppliedAt, None),
        _ => new(source.GetType().Name, true, null, status.AppliedAt, None),
    };
}

internal sealed record AppJson(
    string Name,
    string Strategy,
    IReadOnlyList<PortJson> Ports,
    IReadOnlyList<TargetJson> Targets,
    int ActiveConnections,
    long BytesClientToTarget,
    long BytesTargetToClient);

internal sealed record PortJson(int Port, string State, string? Error);

internal sealed record TargetJson(
    string Address,
    int Weight,
    bool Healthy,
    bool Ejected,
    int ActiveConnections,
    long BytesClientToTarget,
    long BytesTargetToClient);

/// <summary>The data line of a GET /events event.</summary>
internal sealed record EventJson(string Type, DateTimeOffset Time, long Version, string? App, int? Port, string? Target, string Message)
{
    public static EventJson From(DaemonEvent e) => new(e.Type, e.Time, e.Version, e.App, e.Port, e.Target, e.Message);
}

/// <summary>Source-generated serializers: no reflection at run time, camelCase names, nulls written.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(ReadinessJson))]
[JsonSerializable(typeof(StatusJson))]
[JsonSerializable(typeof(EventJson))]
internal sealed partial class AdminJsonContext : JsonSerializerContext;

using System.Net;
using System.Text.Json;
using FProxy.Tests.Host;

namespace FProxy.Tests.Etcd;

/// <summary>A real FProxy.Host on etcd: its own node id, state directory and admin port.</summary>
internal sealed class FleetNode : IDisposable
{
    private FleetNode(HostProcess host, string nodeId, string stateDirectory)
    {
        Host = host;
        NodeId = nodeId;
        StateDirectory = stateDirectory;
        Admin = new AdminClient(host);
    }

    public HostProcess Host { get; }

    public AdminClient Admin { get; }

    public string NodeId { get; }

    public string StateDirectory { get; }

    public static FleetNode Start(string endpoints, string prefix, string nodeId, string? stateDirectory = null)
    {
        stateDirectory ??= Directory.CreateTempSubdirectory("fproxy-state-").FullName;
        var host = HostProcess.Start(null, HostProcess.WithAdmin(new Dictionary<string, string?>
        {
            ["FPROXY_ETCD_ENDPOINTS"] = endpoints,
            ["FPROXY_ETCD_PREFIX"] = prefix,
            ["FPROXY_NODE_ID"] = nodeId,
            ["FPROXY_STATE_DIR"] = stateDirectory,
        }));
        return new FleetNode(host, nodeId, stateDirectory);
    }

    /// <summary>The "source" object of GET /apps.</summary>
    public async Task<JsonElement> SourceAsync(CancellationToken ct)
    {
        var (_, json) = await Admin.GetJsonAsync("/apps", ct);
        return json.GetProperty("source");
    }

    /// <summary>The revision /apps says is applied; 0 when the node does not answer.</summary>
    public async Task<long> AppliedRevisionAsync(CancellationToken ct)
    {
        try
        {
            var source = await SourceAsync(ct);
            return source.GetProperty("revision").ValueKind == JsonValueKind.Number ? source.GetProperty("revision").GetInt64() : 0;
        }
        catch (HttpRequestException)
        {
            return 0;
        }
    }

    public async Task<HttpStatusCode> ReadyStatusAsync(CancellationToken ct) => (await Admin.GetAsync("/readyz", ct)).Status;

    public void Dispose()
    {
        Admin.Dispose();
        Host.Dispose();
    }
}

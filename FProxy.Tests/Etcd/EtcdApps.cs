using System.Globalization;

namespace FProxy.Tests.Etcd;

/// <summary>App values and keys for etcd tests.</summary>
internal static class EtcdApps
{
    public static string Key(string name, string prefix = "/fproxy") => $"{prefix}/apps/{name}";

    /// <summary>One app as stored: the JSON of one element of config.json's Apps.</summary>
    public static string Json(string name, params int[] ports) => Json(name, ports, ["127.0.0.1:9"]);

    public static string Json(string name, int[] ports, string[] targets) =>
        $"{{\"Name\":\"{name}\",\"Ports\":[{string.Join(",", ports.Select(static p => p.ToString(CultureInfo.InvariantCulture)))}],"
        + $"\"Targets\":[{string.Join(",", targets.Select(static t => $"\"{t}\""))}],\"Bind\":\"127.0.0.1\"}}";
}

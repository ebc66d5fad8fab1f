using FProxy.Etcd;
using Grpc.Core;

namespace FProxy.Host;

/// <summary><c>--check</c> with FPROXY_ETCD_ENDPOINTS: every app key under the prefix, checked as a node would apply it.</summary>
internal static class EtcdCheck
{
    public static async Task<int> RunAsync(EtcdOptions options)
    {
        var where = $"etcd {string.Join(",", options.Endpoints)} {EtcdLayout.AppsPrefix(options.NormalizedPrefix)}";
        EtcdCheckResult result;
        try
        {
            result = await EtcdConfigCheck.RunAsync(options).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RpcException or HttpRequestException or IOException)
        {
            var reason = e is RpcException rpc ? $"{rpc.StatusCode}: {rpc.Status.Detail}" : e.Message;
            await Console.Error.WriteLineAsync($"fproxy: {where}: etcd cannot be reached ({reason})").ConfigureAwait(false);
            return Program.StartFailedExitCode;
        }

        var ports = result.Config.Apps.Sum(static a => a.Ports.Count);
        if (result.Errors.Count == 0)
        {
            Console.Out.WriteLine($"{where}: ok ({result.Config.Apps.Count} app(s), {ports} port(s)) at revision {result.Revision}");
            return 0;
        }

        foreach (var (key, problems) in result.Errors.OrderBy(static e => e.Key, StringComparer.Ordinal))
        {
            await Console.Error.WriteLineAsync($"fproxy: {key}: {string.Join("; ", problems)}").ConfigureAwait(false);
        }

        Console.Out.WriteLine(
            $"{where}: {result.Errors.Count} of {result.Keys} key(s) invalid at revision {result.Revision}; the other {result.Config.Apps.Count} app(s), {ports} port(s) would apply");
        return Program.InvalidConfigExitCode;
    }
}

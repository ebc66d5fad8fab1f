using FProxy.Configuration;
using FProxy.Etcd.Source;
using Grpc.Core;

namespace FProxy.Etcd;

/// <summary>What <c>FProxy.Host --check</c> reports for etcd: the apps stored under the prefix, checked as a node would apply them.</summary>
public static class EtcdConfigCheck
{
    /// <summary>Reads every app key once and checks each, including the port and name rules across keys.</summary>
    /// <param name="options">The cluster and prefix.</param>
    /// <param name="schema">The strategy and probe names apps may use; the built-ins when null.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The revision read, the config a node would serve, and each bad key's problems.</returns>
    /// <exception cref="RpcException">No endpoint answered.</exception>
    public static async Task<EtcdCheckResult> RunAsync(EtcdOptions options, ConfigSchema? schema = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        using var connection = new EtcdConnection(options);
        for (var attempt = 1; ; attempt++)
        {
            var endpoint = connection.Endpoint;
            try
            {
                var headers = await connection.HeadersAsync(cancellationToken).ConfigureAwait(false);
                var (revision, _, keys) = await AppRange.ReadAsync(connection, headers, cancellationToken).ConfigureAwait(false);
                var table = new AppTable(options.NormalizedPrefix, schema ?? ConfigSchema.Default);
                table.Replace(keys);
                var built = table.Build();
                return new EtcdCheckResult(
                    revision,
                    keys.Count,
                    built.Config,
                    built.Errors.ToDictionary(static e => e.Key, static e => e.Value.Problems, StringComparer.Ordinal));
            }
            catch (Exception e) when (e is RpcException or HttpRequestException or IOException && attempt < options.Endpoints.Count)
            {
                connection.Failover(endpoint);
            }
        }
    }
}

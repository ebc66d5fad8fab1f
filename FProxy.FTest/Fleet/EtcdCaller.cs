using dotnet_etcd;
using FProxy.Etcd;
using FProxy.FTest.Net;
using Grpc.Core;

namespace FProxy.FTest.Fleet;

/// <summary>
/// Makes one etcd request for a command that runs once: on the endpoint in use, and when that
/// one does not answer, on the next, until each has been tried once. Every etcd error becomes a
/// one-line <see cref="ToolException"/> naming the endpoint; "no answer from any" is
/// <see cref="ToolException.Transient"/>, for a caller that waits anyway.
/// </summary>
internal sealed class EtcdCaller(EtcdConnection connection)
{
    /// <summary>One request on one endpoint's client.</summary>
    public delegate Task<T> Call<T>(EtcdClient client, Metadata? headers, DateTime deadline, CancellationToken ct);

    /// <summary>
    /// Runs one call on the endpoint in use; when it cannot be reached, on the next, until each
    /// has been tried once. Each try gets <see cref="EtcdOptions.RequestTimeout"/>, or until
    /// <paramref name="deadline"/> when that comes sooner.
    /// </summary>
    public async Task<T> CallAsync<T>(Call<T> call, DateTime? deadline, CancellationToken ct)
    {
        var failures = new List<string>();
        for (var attempt = 0; attempt < connection.Options.Endpoints.Count; attempt++)
        {
            var endpoint = connection.Endpoint;
            try
            {
                var headers = await connection.HeadersAsync(ct).ConfigureAwait(false);
                var callDeadline = connection.RequestDeadline;
                if (deadline is { } limit && limit < callDeadline)
                {
                    callDeadline = limit;
                }

                return await call(connection.Client, headers, callDeadline, ct).ConfigureAwait(false);
            }
            catch (RpcException) when (ct.IsCancellationRequested)
            {
                throw new OperationCanceledException(ct);
            }
            catch (RpcException e) when (IsUnanswered(e))
            {
                failures.Add($"{Name(endpoint)}: {Describe(e)}");
                connection.Failover(endpoint);
            }
            catch (RpcException e)
            {
                // Answered, and said no (authentication, permission, too many operations): the
                // other members would say the same.
                throw new ToolException($"etcd at {Name(endpoint)}: {Describe(e)}");
            }
        }

        throw new ToolException($"etcd unreachable: {string.Join("; ", failures)}") { Transient = true };
    }

    /// <summary>
    /// The call got no answer: the member is down or cut off, or the time ran out. etcd itself
    /// reports a deadline that passed while it worked on the request (gRPC passes it on) as
    /// Unknown "context deadline exceeded".
    /// </summary>
    private static bool IsUnanswered(RpcException e) =>
        e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded
        || (e.StatusCode == StatusCode.Unknown && e.Status.Detail.Contains("deadline exceeded", StringComparison.Ordinal));

    private static string Name(Uri endpoint) => endpoint.ToString().TrimEnd('/');

    /// <summary>The status in one line: gRPC details can carry an inner exception's lines.</summary>
    private static string Describe(RpcException e) => IsUnanswered(e) && e.StatusCode != StatusCode.Unavailable
        ? "no answer in time"
        : $"{e.StatusCode}: {string.Join(' ', e.Status.Detail.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))}";
}

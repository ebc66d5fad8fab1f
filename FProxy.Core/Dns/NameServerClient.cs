using System.Net;
using System.Net.Sockets;
using DnsClient;
using DnsClient.Protocol;
using Microsoft.Extensions.Logging;

namespace FProxy.Dns;

/// <summary>
/// Asks the nameservers for a name's A and AAAA records, in parallel, through DnsClient, and turns
/// every outcome (including timeouts and exceptions) into a <see cref="LookupResult"/>.
/// </summary>
/// <remarks>
/// DnsClient's own cache is off: <see cref="AddressTable"/> keeps the addresses and refreshes them.
/// There is deliberately no public fallback resolver: with no nameserver, lookups fail with a clear error.
/// </remarks>
internal sealed class NameServerClient
{
    /// <summary>Retries per query after the first attempt; the caller retries again later anyway.</summary>
    private const int Retries = 1;

    private readonly LookupClient? _client;
    private readonly TimeSpan _queryTimeout;

    public NameServerClient(DnsOptions options, ILogger logger)
    {
        _queryTimeout = options.QueryTimeout;
        IReadOnlyCollection<NameServer> servers;
        string origin;
        if (options.Servers.Count > 0)
        {
            servers = [.. options.Servers.Select(static s => new NameServer(s))];
            origin = DnsOptions.ServersVariable;
        }
        else
        {
            origin = "system";
            try
            {
                servers = NameServer.ResolveNameServers(skipIPv6SiteLocal: true, fallbackToGooglePublicDns: false);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // DnsClient reads resolv.conf / the interfaces; a broken configuration means "no servers".
                DnsLog.NoNameServers(logger, e);
                return;
            }
        }

        if (servers.Count == 0)
        {
            DnsLog.NoNameServers(logger, null);
            return;
        }

        DnsLog.UsingNameServers(logger, string.Join(", ", servers), origin);
        _client = new LookupClient(new LookupClientOptions([.. servers])
        {
            UseCache = false,
            ThrowDnsErrors = false,
            UseTcpFallback = true,
            Timeout = options.QueryTimeout,
            Retries = Retries,
        });
    }

    /// <summary>False when no nameserver is configured: every lookup fails.</summary>
    public bool HasServers => _client is not null;

    /// <summary>
    /// Queries A and AAAA for <paramref name="host"/>, exactly that name (no search list: see
    /// <see cref="NameSearch"/>), in parallel, and combines the answers.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public async Task<LookupResult> LookupAsync(string host, CancellationToken cancellationToken)
    {
        if (_client is null)
        {
            return LookupResult.Failed($"cannot look up \"{host}\": no nameserver configured (set {DnsOptions.ServersVariable})");
        }

        Task<FamilyAnswer> v4 = QueryAsync(_client, host, QueryType.A, cancellationToken);
        Task<FamilyAnswer> v6 = QueryAsync(_client, host, QueryType.AAAA, cancellationToken);
        FamilyAnswer a = await v4.ConfigureAwait(false);
        FamilyAnswer aaaa = await v6.ConfigureAwait(false);

        if (a.Addresses.Count + aaaa.Addresses.Count > 0)
        {
            // One family failing while the other answers is still an answer: connect to what we have.
            int ttl = Math.Min(a.Addresses.Count > 0 ? a.MinTtl : int.MaxValue, aaaa.Addresses.Count > 0 ? aaaa.MinTtl : int.MaxValue);
            return new LookupResult(
                AddressOrder.Interleave(aaaa.Addresses.Concat(a.Addresses)),
                TimeSpan.FromSeconds(Math.Max(ttl, 0)),
                Error: null,
                FromHostsFile: false);
        }

        if (a.Code == DnsResponseCode.NotExistentDomain || aaaa.Code == DnsResponseCode.NotExistentDomain)
        {
            return LookupResult.Failed($"\"{host}\" not found (NXDOMAIN)", LookupStatus.NotFound);
        }

        if (a.Code == DnsResponseCode.NoError && aaaa.Code == DnsResponseCode.NoError)
        {
            return LookupResult.Failed($"\"{host}\" has no A or AAAA record", LookupStatus.NoAddress);
        }

        FamilyAnswer failed = a.Code != DnsResponseCode.NoError ? a : aaaa;
        return failed.Code switch
        {
            DnsResponseCode.ConnectionTimeout => LookupResult.Failed(
                $"lookup of \"{host}\" timed out (no answer within {_queryTimeout.TotalSeconds:0.###} s, {Retries + 1} attempts)"),
            DnsResponseCode.ServerFailure => LookupResult.Failed(
                $"lookup of \"{host}\" failed: server failure (SERVFAIL)", LookupStatus.ServerFailure),
            DnsResponseCode.Refused => LookupResult.Failed($"lookup of \"{host}\" failed: refused by the nameserver (REFUSED)"),
            _ => LookupResult.Failed($"lookup of \"{host}\" failed: {failed.Message}"),
        };
    }

    private static async Task<FamilyAnswer> QueryAsync(LookupClient client, string host, QueryType type, CancellationToken cancellationToken)
    {
        try
        {
            IDnsQueryResponse response = await client.QueryAsync(host, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            var code = (DnsResponseCode)response.Header.ResponseCode;
            var addresses = new List<IPAddress>();
            int minTtl = int.MaxValue;
            foreach (DnsResourceRecord record in response.Answers)
            {
                IPAddress? address = record switch
                {
                    ARecord r when type == QueryType.A => r.Address,
                    AaaaRecord r when type == QueryType.AAAA => r.Address,
                    _ => null,
                };
                if (address is not null)
                {
                    addresses.Add(address);
                    minTtl = Math.Min(minTtl, record.TimeToLive);
                }
            }

            return new FamilyAnswer(addresses, minTtl, code, response.HasError ? response.ErrorMessage : "no error");
        }
        catch (DnsResponseException e)
        {
            // DnsClient throws for transport failures (timeouts) even with ThrowDnsErrors = false.
            return new FamilyAnswer([], 0, e.Code, e.DnsError ?? e.Message);
        }
        catch (Exception e) when (e is SocketException or ArgumentException or InvalidOperationException or IOException)
        {
            // ArgumentException: a name DnsClient cannot encode; the others: transport trouble.
            return new FamilyAnswer([], 0, DnsResponseCode.Unassigned, e.Message);
        }
    }

    private readonly record struct FamilyAnswer(List<IPAddress> Addresses, int MinTtl, DnsResponseCode Code, string Message);
}

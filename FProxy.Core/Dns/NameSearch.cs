using System.Text;

namespace FProxy.Dns;

/// <summary>
/// Resolves a target name through DNS the way glibc's res_search does: the names
/// <see cref="ResolverConfig.Candidates"/> lists (the search list and ndots of resolv.conf,
/// <c>LOCALDOMAIN</c> and <c>RES_OPTIONS</c>) are queried one after the other, A and AAAA each, and the
/// first that has an address of either family is the answer. So Kubernetes short names such as
/// <c>redis</c> or <c>redis.cache</c> reach their services, and <c>redis.</c> only ever means <c>redis</c>.
/// </summary>
/// <remarks>
/// <para>
/// Which outcomes go on to the next name: NXDOMAIN and "no A or AAAA record" (NODATA) do, as in glibc
/// (NODATA too, so a record of another type cannot hide the name further down the list); so does
/// SERVFAIL, as glibc does, so one broken search domain does not break every short name.
/// </para>
/// <para>
/// What stops the search: no answer at all (a timeout, REFUSED, a transport error). glibc then stops
/// the search list but still queries the name as it is; FProxy stops outright and reports the failure.
/// Without an answer the name that went unanswered may well exist, and answering with a later name
/// would silently point the target at another service (BIND's resolver gives up the same way).
/// The address table keeps the last good addresses meanwhile and retries soon.
/// </para>
/// <para>The hosts file is not searched: the table looks the name up there as given, before DNS, as
/// glibc's files backend does.</para>
/// </remarks>
internal sealed class NameSearch
{
    private readonly ResolvConfFile _resolvConf;
    private readonly NameServerClient _nameServers;

    public NameSearch(ResolvConfFile resolvConf, NameServerClient nameServers)
    {
        _resolvConf = resolvConf;
        _nameServers = nameServers;
    }

    /// <summary>Queries the candidates of <paramref name="host"/> in order until one has addresses.</summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public async Task<LookupResult> LookupAsync(string host, CancellationToken cancellationToken)
    {
        if (!_nameServers.HasServers)
        {
            return LookupResult.Failed($"cannot look up \"{host}\": no nameserver configured (set {DnsOptions.ServersVariable})");
        }

        string[] candidates = _resolvConf.Current.Candidates(host);
        if (candidates.Length == 0)
        {
            return LookupResult.Failed($"\"{host}\" is not a name DNS can be asked for");
        }

        // Only a search of several names needs to remember how each ended, for the error message.
        LookupStatus[]? outcomes = candidates.Length > 1 ? new LookupStatus[candidates.Length] : null;
        LookupResult result = default;
        for (int i = 0; i < candidates.Length; i++)
        {
            result = await _nameServers.LookupAsync(candidates[i], cancellationToken).ConfigureAwait(false);
            switch (result.Status)
            {
                case LookupStatus.Found:
                    bool renamed = !candidates[i].AsSpan().Equals(host.AsSpan().TrimEnd('.'), StringComparison.OrdinalIgnoreCase);
                    return renamed ? result with { AnsweredAs = candidates[i] } : result;
                case LookupStatus.Failed when outcomes is not null:
                    outcomes[i] = result.Status;
                    return result with { Error = $"{result.Error}; search for \"{host}\" stopped ({Tried(candidates, outcomes, i + 1)})" };
                case LookupStatus.Failed:
                    return result;
            }

            outcomes?[i] = result.Status;
        }

        // A single name keeps its own, more precise message ("... (NXDOMAIN)", "... (SERVFAIL)").
        return outcomes is null
            ? result
            : LookupResult.Failed($"\"{host}\" not found ({Tried(candidates, outcomes, candidates.Length)})", LookupStatus.NotFound);
    }

    /// <summary>"tried a, b: SERVFAIL, c": the first <paramref name="count"/> names, with how each ended unless NXDOMAIN.</summary>
    private static string Tried(string[] candidates, LookupStatus[] outcomes, int count)
    {
        var text = new StringBuilder("tried ");
        for (int i = 0; i < count; i++)
        {
            text.Append(i == 0 ? "" : ", ").Append(candidates[i]).Append(outcomes[i] switch
            {
                LookupStatus.NoAddress => ": no A or AAAA record",
                LookupStatus.ServerFailure => ": SERVFAIL",
                _ => "",
            });
        }

        return text.ToString();
    }
}

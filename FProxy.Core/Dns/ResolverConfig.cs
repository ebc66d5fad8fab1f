namespace FProxy.Dns;

/// <summary>
/// What decides which names are queried for a target name: the search list and the options
/// <c>ndots</c> and <c>no-tld-query</c>, as <see cref="ResolvConfParser"/> reads them, applied as
/// glibc's res_search applies them (resolv/res_query.c, __res_context_search). Immutable.
/// </summary>
/// <remarks>
/// Deliberately not supported: <c>HOSTALIASES</c> (glibc's per-user aliases for dotless names), and
/// the options that tune glibc's own transport (see <see cref="ResolverOptions"/>).
/// </remarks>
internal sealed class ResolverConfig
{
    /// <summary>glibc's default, and what applies without resolv.conf or an <c>ndots</c> option.</summary>
    public const int DefaultNdots = 1;

    /// <summary>glibc's RES_MAXNDOTS: a larger <c>ndots</c> counts as this.</summary>
    public const int MaxNdots = 15;

    /// <summary>Longest name in text form (255 octets on the wire, RFC 1035 section 3.1).</summary>
    private const int MaxNameLength = 253;

    private const int MaxLabelLength = 63;

    private readonly string[] _searchDomains;

    public ResolverConfig(string[] searchDomains, int ndots, bool noTldQuery = false, bool noReload = false)
    {
        ArgumentNullException.ThrowIfNull(searchDomains);
        ArgumentOutOfRangeException.ThrowIfNegative(ndots);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(ndots, MaxNdots);
        _searchDomains = searchDomains;
        Ndots = ndots;
        NoTldQuery = noTldQuery;
        NoReload = noReload;
    }

    /// <summary>The search list as configured (an empty entry, or ".", stands for the root).</summary>
    public IReadOnlyList<string> SearchDomains => _searchDomains;

    /// <summary>A name with at least this many dots is tried as it is before the search list.</summary>
    public int Ndots { get; }

    /// <summary>
    /// <c>no-tld-query</c>: a dotless name is never queried as it is once the search list was tried.
    /// </summary>
    public bool NoTldQuery { get; }

    /// <summary><c>no-reload</c>: resolv.conf is read once and not again when it changes.</summary>
    public bool NoReload { get; }

    /// <summary>
    /// The names to query for <paramref name="name"/>, in the order glibc's res_search queries them
    /// (each as an absolute name, without the trailing dot):
    /// <list type="bullet">
    /// <item>a name ending in a dot is absolute: only itself;</item>
    /// <item>a name with at least <see cref="Ndots"/> dots: itself first, then itself in each search domain;</item>
    /// <item>a name with fewer dots: itself in each search domain first, then itself last (unless
    /// <see cref="NoTldQuery"/> and the name has no dot, or the root is on the search list, which
    /// already queried it).</item>
    /// </list>
    /// A name that would come twice is queried once (the answer would be the same), and one longer than
    /// 253 characters or with an empty or over-long label is left out, as no nameserver could answer it.
    /// </summary>
    public string[] Candidates(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var candidates = new List<string>(_searchDomains.Length + 1);
        if (name.EndsWith('.'))
        {
            Add(candidates, name[..^1]);
            return [.. candidates];
        }

        int dots = name.AsSpan().Count('.');
        bool triedAsIs = false;
        if (dots >= Ndots)
        {
            Add(candidates, name);
            triedAsIs = true;
        }

        bool rootOnList = false;
        foreach (string entry in _searchDomains)
        {
            // As glibc: one leading dot is dropped, and what is left empty is the root, so "name." is
            // queried: the name itself.
            string domain = entry.StartsWith('.') ? entry[1..] : entry;
            if (domain.Length == 0)
            {
                rootOnList = true;
                Add(candidates, name);
            }
            else
            {
                Add(candidates, string.Concat(name, ".", domain.EndsWith('.') ? domain.AsSpan(0, domain.Length - 1) : domain));
            }
        }

        bool searched = _searchDomains.Length > 0;
        if ((dots > 0 || !searched || !NoTldQuery) && !triedAsIs && !rootOnList)
        {
            Add(candidates, name);
        }

        return [.. candidates];
    }

    /// <summary>Search list and ndots, for logs.</summary>
    public override string ToString() =>
        $"search list [{string.Join(' ', _searchDomains)}], ndots {Ndots}{(NoTldQuery ? ", no-tld-query" : "")}";

    private static void Add(List<string> candidates, string name)
    {
        if (IsQueryable(name) && !candidates.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            candidates.Add(name);
        }
    }

    private static bool IsQueryable(string name)
    {
        if (name.Length is 0 or > MaxNameLength)
        {
            return false;
        }

        foreach (Range label in name.AsSpan().Split('.'))
        {
            int length = label.GetOffsetAndLength(name.Length).Length;
            if (length is 0 or > MaxLabelLength)
            {
                return false;
            }
        }

        return true;
    }
}

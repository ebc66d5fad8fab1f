using System.Diagnostics.CodeAnalysis;

namespace FProxy.Dns;

/// <summary>
/// What decides which names are queried for a target name: the search list and the options
/// <c>ndots</c> and <c>no-tld-query</c>. Read from resolv.conf, <c>LOCALDOMAIN</c>, <c>RES_OPTIONS</c>
/// and the host name exactly as glibc's res_init reads them (resolv/res_init.c), and applied as its
/// res_search applies them (resolv/res_query.c, __res_context_search). Immutable.
/// </summary>
/// <remarks>
/// Deliberately not supported: <c>HOSTALIASES</c> (glibc's per-user aliases for dotless names), and
/// the options that tune glibc's own transport (<c>timeout:</c>, <c>attempts:</c>, <c>rotate</c>,
/// <c>single-request</c>, <c>use-vc</c>, <c>edns0</c>, <c>trust-ad</c>, <c>no-aaaa</c>, ...): they are
/// accepted and ignored, as FProxy has its own timeouts and always asks for A and AAAA.
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

    /// <summary>No search list, ndots 1: a name is queried as it is.</summary>
    public static ResolverConfig Default { get; } = new([], DefaultNdots);

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

    /// <summary>Reads <paramref name="resolvConf"/> and <paramref name="environment"/>'s variables and host name.</summary>
    /// <param name="resolvConf">resolv.conf's text, or null when there is none (a missing file is not an error).</param>
    /// <param name="environment">Where <c>LOCALDOMAIN</c>, <c>RES_OPTIONS</c> and the host name come from.</param>
    public static ResolverConfig Load(TextReader? resolvConf, ResolverEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return Parse(resolvConf, environment.LocalDomain, environment.ResOptions, environment.HostName);
    }

    /// <summary>
    /// Builds the configuration as glibc's res_init does, in its order:
    /// <list type="number">
    /// <item><c>LOCALDOMAIN</c>, when set (even empty), is the search list: blank-separated domains;
    /// resolv.conf's <c>search</c> and <c>domain</c> lines are then ignored.</item>
    /// <item>resolv.conf, line by line: <c>search d1 d2 ...</c> and <c>domain d</c> each replace the
    /// search list (the last such line wins); <c>options</c> sets options; a line starting with
    /// <c>#</c> or <c>;</c> is a comment; a keyword must start its line and be followed by a blank.</item>
    /// <item>With no search list so far, the host name's domain (what follows its first dot), if any.</item>
    /// <item><c>RES_OPTIONS</c>, applied over resolv.conf's options.</item>
    /// </list>
    /// </summary>
    public static ResolverConfig Parse(TextReader? resolvConf, string? localDomain, string? resOptions, string? hostName)
    {
        var search = new List<string>();
        var options = new Options();
        if (localDomain is not null)
        {
            // Up to the first newline ("silly backwards compat" in the BSD original). A leading blank
            // makes an empty first entry, which glibc then searches as the root.
            int newline = localDomain.IndexOf('\n', StringComparison.Ordinal);
            SplitBlanks(newline < 0 ? localDomain : localDomain[..newline], search);
        }

        while (resolvConf?.ReadLine() is string line)
        {
            if (line.StartsWith('#') || line.StartsWith(';'))
            {
                continue;
            }

            if (TryMatch(line, "domain", out string? value))
            {
                if (localDomain is null && value.Length > 0)
                {
                    // Only the first word: glibc cuts the value at the first blank.
                    int blank = value.AsSpan().IndexOfAny(' ', '\t');
                    search.Clear();
                    search.Add(blank < 0 ? value : value[..blank]);
                }
            }
            else if (TryMatch(line, "search", out value))
            {
                if (localDomain is null && value.Length > 0)
                {
                    SplitBlanks(value, search);
                }
            }
            else if (TryMatch(line, "options", out value))
            {
                options.Apply(value);
            }
        }

        if (search.Count == 0 && hostName?.IndexOf('.', StringComparison.Ordinal) is int dot and >= 0)
        {
            search.Add(hostName[(dot + 1)..]);
        }

        if (resOptions is not null)
        {
            options.Apply(resOptions);
        }

        return new ResolverConfig([.. search], options.Ndots, options.NoTldQuery, options.NoReload);
    }

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

    /// <summary>
    /// glibc's MATCH: <paramref name="line"/> starts with <paramref name="keyword"/> and a blank;
    /// <paramref name="value"/> is the rest without its leading blanks.
    /// </summary>
    private static bool TryMatch(string line, string keyword, [NotNullWhen(true)] out string? value)
    {
        if (line.Length > keyword.Length && line.StartsWith(keyword, StringComparison.Ordinal) && line[keyword.Length] is ' ' or '\t')
        {
            value = line[(keyword.Length + 1)..].TrimStart(' ', '\t');
            return true;
        }

        value = null;
        return false;
    }

    /// <summary>
    /// Replaces <paramref name="into"/>'s contents with <paramref name="text"/> split at spaces and tabs
    /// the way glibc splits a search list: the first entry always starts at the first character (so it
    /// is empty if that is a blank); runs of blanks and trailing blanks make no further empty entry.
    /// </summary>
    private static void SplitBlanks(string text, List<string> into)
    {
        into.Clear();
        int start = 0;
        bool inName = true;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] is ' ' or '\t')
            {
                if (inName)
                {
                    into.Add(text[start..i]);
                    inName = false;
                }
            }
            else if (!inName)
            {
                start = i;
                inName = true;
            }
        }

        if (inName)
        {
            into.Add(text[start..]);
        }
    }

    /// <summary>The options being collected, set by resolv.conf's <c>options</c> lines and then <c>RES_OPTIONS</c>.</summary>
    private sealed class Options
    {
        public int Ndots { get; private set; } = DefaultNdots;

        public bool NoTldQuery { get; private set; }

        public bool NoReload { get; private set; }

        /// <summary>glibc's res_setoptions: blank-separated words, each matched by its prefix; unknown words are skipped.</summary>
        public void Apply(string text)
        {
            int i = 0;
            while (i < text.Length)
            {
                while (i < text.Length && text[i] is ' ' or '\t')
                {
                    i++;
                }

                ReadOnlySpan<char> word = text.AsSpan(i);
                if (word.StartsWith("ndots:", StringComparison.Ordinal))
                {
                    // glibc stores atoi's value, capped at 15, in a 4-bit field: a negative value keeps
                    // its low 4 bits (-1 is 15). Odd, but that is what the system resolver then uses.
                    int value = Atoi(word["ndots:".Length..]);
                    Ndots = value > MaxNdots ? MaxNdots : value & MaxNdots;
                }
                else if (word.StartsWith("no-tld-query", StringComparison.Ordinal) || word.StartsWith("no_tld_query", StringComparison.Ordinal))
                {
                    NoTldQuery = true;
                }
                else if (word.StartsWith("no-reload", StringComparison.Ordinal))
                {
                    NoReload = true;
                }

                while (i < text.Length && text[i] is not (' ' or '\t'))
                {
                    i++;
                }
            }
        }

        /// <summary>C's atoi: leading white space, an optional sign, then digits up to the first non-digit; 0 if none.</summary>
        private static int Atoi(ReadOnlySpan<char> text)
        {
            int i = 0;
            while (i < text.Length && text[i] is ' ' or '\t' or '\n' or '\v' or '\f' or '\r')
            {
                i++;
            }

            bool negative = false;
            if (i < text.Length && text[i] is '+' or '-')
            {
                negative = text[i] == '-';
                i++;
            }

            // Saturates well above any meaningful ndots rather than overflowing.
            int value = 0;
            for (; i < text.Length && char.IsAsciiDigit(text[i]); i++)
            {
                value = Math.Min((value * 10) + (text[i] - '0'), 1_000_000);
            }

            return negative ? -value : value;
        }
    }
}

using System.Diagnostics.CodeAnalysis;

namespace FProxy.Dns;

/// <summary>
/// Reads resolv.conf, <c>LOCALDOMAIN</c>, <c>RES_OPTIONS</c> and the host name into a
/// <see cref="ResolverConfig"/> exactly as glibc's res_init reads them (resolv/res_init.c,
/// res_vinit_1): same keywords, same splitting, same precedence.
/// </summary>
internal static class ResolvConfParser
{
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
        var options = new ResolverOptions();
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
}

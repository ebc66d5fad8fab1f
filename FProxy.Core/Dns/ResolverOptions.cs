namespace FProxy.Dns;

/// <summary>
/// The options being collected while <see cref="ResolvConfParser"/> reads resolv.conf's <c>options</c>
/// lines and then <c>RES_OPTIONS</c>. Only <c>ndots:N</c>, <c>no-tld-query</c> and <c>no-reload</c> have
/// an effect; the options that tune glibc's own transport (<c>timeout:</c>, <c>attempts:</c>,
/// <c>rotate</c>, <c>single-request</c>, <c>use-vc</c>, <c>edns0</c>, <c>trust-ad</c>, <c>no-aaaa</c>,
/// ...) are accepted and ignored, as FProxy has its own timeouts and always asks for A and AAAA.
/// </summary>
internal sealed class ResolverOptions
{
    public int Ndots { get; private set; } = ResolverConfig.DefaultNdots;

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
                Ndots = value > ResolverConfig.MaxNdots ? ResolverConfig.MaxNdots : value & ResolverConfig.MaxNdots;
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

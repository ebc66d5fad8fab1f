using System.Net;

namespace FProxy.Configuration;

/// <summary>
/// Matches an SNI host name against a route's pattern: an exact host name, or <c>*.example.com</c>
/// for any name below example.com (at any depth, but not example.com itself). Case-insensitive, as
/// DNS names are; the parser already lower-cases what it reads.
/// </summary>
internal static class SniPattern
{
    private const string WildcardPrefix = "*.";
    private const int MaxNameLength = 253;
    private const int MaxLabelLength = 63;

    /// <summary>Whether <paramref name="serverName"/> matches <paramref name="pattern"/> (assumed valid).</summary>
    public static bool Matches(string pattern, string serverName)
    {
        if (pattern.StartsWith(WildcardPrefix, StringComparison.Ordinal))
        {
            // Keep the dot: "*.example.com" matches "a.example.com" by the suffix ".example.com", and
            // the name must be longer than the suffix so that at least one label precedes it.
            var suffix = pattern.AsSpan(1);
            return serverName.Length > suffix.Length &&
                serverName.AsSpan().EndsWith(suffix, StringComparison.OrdinalIgnoreCase);
        }

        return string.Equals(pattern, serverName, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Whether <paramref name="pattern"/> is a host name or <c>*.</c> followed by one.</summary>
    /// <param name="pattern">The pattern from the config.</param>
    /// <param name="error">Why it is not valid, naming the pattern; null when valid.</param>
    public static bool IsValid(string? pattern, out string? error)
    {
        var name = pattern is not null && pattern.StartsWith(WildcardPrefix, StringComparison.Ordinal)
            ? pattern.AsSpan(WildcardPrefix.Length)
            : pattern.AsSpan();

        // SNI never carries an IP literal (RFC 6066 3), so "10.0.0.1" would never match.
        if (pattern is not null && IsHostName(name) && !IPAddress.TryParse(name, out _))
        {
            error = null;
            return true;
        }

        error = $"\"{pattern}\" is not a valid SNI pattern (expected a host name or *.example.com)";
        return false;
    }

    /// <summary>Letters, digits and inner hyphens in dot-separated labels of 1-63 characters; no trailing dot.</summary>
    private static bool IsHostName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > MaxNameLength)
        {
            return false;
        }

        foreach (var range in name.Split('.'))
        {
            var label = name[range];
            if (label.IsEmpty || label.Length > MaxLabelLength || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!char.IsAsciiLetterOrDigit(c) && c != '-')
                {
                    return false;
                }
            }
        }

        return true;
    }
}

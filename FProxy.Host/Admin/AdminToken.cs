using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace FProxy.Host.Admin;

/// <summary>
/// The bearer token the admin routes require (FPROXY_ADMIN_TOKEN), kept as its SHA-256 only. A
/// request's token is hashed too and the two hashes compared in constant time, so neither the
/// token's bytes nor its length leak through how long a refusal takes.
/// </summary>
internal sealed class AdminToken
{
    /// <summary>Shorter tokens are refused at start: a guessable token on a reachable port is no lock.</summary>
    public const int MinLength = 16;

    private const string Scheme = "Bearer ";

    private readonly byte[] _hash;

    private AdminToken(string token) => _hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>Reads the token; throws <see cref="ArgumentException"/> naming <paramref name="variable"/> when it is unusable.</summary>
    public static AdminToken Parse(string text, string variable)
    {
        if (text.Length < MinLength || text.Any(char.IsWhiteSpace))
        {
            throw new ArgumentException(
                $"{variable}: the admin token must be at least {MinLength} characters without spaces (e.g. the output of `openssl rand -hex 32`)");
        }

        return new AdminToken(text);
    }

    /// <summary>Whether an <c>Authorization</c> header value is <c>Bearer</c> and this token.</summary>
    public bool Accepts(StringValues authorization)
    {
        if (authorization.Count != 1 || authorization[0] is not { } value
            || !value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(value[Scheme.Length..].Trim()), hash);
        return CryptographicOperations.FixedTimeEquals(hash, _hash);
    }
}

namespace FProxy.Routing;

/// <summary>
/// A new connection as routing sees it: its TLS server name can be read without consuming the
/// bytes (the transport keeps them for the target). Routing asks only when a rule needs it.
/// </summary>
internal interface IServerNamePeek
{
    /// <summary>
    /// Reads the client's first bytes without consuming them until the TLS ClientHello parser
    /// decides, the client sends a FIN, or <paramref name="timeout"/> passes.
    /// </summary>
    /// <returns>The server name or null (not TLS, no SNI, timed out); Failed when the client reset or the connection was aborted.</returns>
    ValueTask<(string? Name, bool Failed)> PeekServerNameAsync(TimeSpan timeout);
}

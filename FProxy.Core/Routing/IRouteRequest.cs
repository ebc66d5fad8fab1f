using System.Net;

namespace FProxy.Routing;

/// <summary>
/// A new connection as routing sees it: its client's address, and its TLS server name, read
/// without consuming the bytes (the transport keeps them for the target). Routing asks for either
/// only when a rule needs it: the transport makes the address on first use.
/// </summary>
internal interface IRouteRequest
{
    /// <summary>The client's address and port; null when the transport cannot tell.</summary>
    IPEndPoint? ClientEndPoint { get; }

    /// <summary>
    /// Reads the client's first bytes without consuming them until the TLS ClientHello parser
    /// decides, the client sends a FIN, or <paramref name="timeout"/> passes.
    /// </summary>
    /// <returns>The server name or null (not TLS, no SNI, timed out); Failed when the client reset or the connection was aborted.</returns>
    ValueTask<(string? Name, bool Failed)> PeekServerNameAsync(TimeSpan timeout);
}

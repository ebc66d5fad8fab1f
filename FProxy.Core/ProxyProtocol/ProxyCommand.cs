namespace FProxy.ProxyProtocol;

/// <summary>Whether a header carries a client's addresses or is the proxy's own connection (v2 LOCAL, v1 UNKNOWN).</summary>
internal enum ProxyCommand
{
    /// <summary>The proxy's own connection (a health check): keep the connection's own addresses.</summary>
    Local,

    /// <summary>A relayed connection: the header's addresses are the client's and the one it connected to.</summary>
    Proxy,
}

namespace FProxy.Configuration;

/// <summary>Which PROXY protocol header (the HAProxy specification) connections to targets begin with.</summary>
public enum ProxyProtocolVersion
{
    /// <summary>No header: the target sees the proxy's address (the default).</summary>
    None = 0,

    /// <summary>Version 1, the text header: <c>PROXY TCP4 192.0.2.1 198.51.100.1 51234 443\r\n</c>.</summary>
    V1 = 1,

    /// <summary>Version 2, the binary header: shorter, and cheaper for the target to parse.</summary>
    V2 = 2,
}

namespace FProxy.Routing;

/// <summary>What <see cref="ClientHelloParser.TryReadServerName"/> made of the first bytes a client sent.</summary>
internal enum SniParseResult
{
    /// <summary>The bytes so far are a valid prefix of a TLS ClientHello: wait for more and parse again.</summary>
    NeedMoreData,

    /// <summary>Not a TLS ClientHello (another protocol, a malformed hello, or one over the size cap).</summary>
    NotTls,

    /// <summary>A complete, well-formed ClientHello without a host_name in server_name.</summary>
    NoServerName,

    /// <summary>A complete, well-formed ClientHello with a host name.</summary>
    Found,
}

namespace FProxy.ProxyProtocol;

/// <summary>What <see cref="ProxyHeaderParser.TryParse"/> made of the first bytes of a connection.</summary>
internal enum ProxyParseStatus
{
    /// <summary>The bytes so far are a valid beginning of a v1 or v2 header: wait for more and parse again.</summary>
    NeedMoreData,

    /// <summary>A whole, valid header; its length is in <c>consumed</c>, what follows is the client's data.</summary>
    Done,

    /// <summary>Not a valid header (malformed, an unknown version, or over a size limit); the reason says which.</summary>
    Invalid,
}

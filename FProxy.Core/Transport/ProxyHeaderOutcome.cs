namespace FProxy.Transport;

/// <summary>How reading a client's PROXY protocol header ended.</summary>
internal enum ProxyHeaderOutcome
{
    /// <summary>A valid header was read and consumed; the bytes after it are kept for the target.</summary>
    Received,

    /// <summary>The bytes are not a valid header, or the client closed before finishing one.</summary>
    Malformed,

    /// <summary>No complete header within the timeout.</summary>
    TimedOut,

    /// <summary>The client reset, or the connection was aborted (drain, shutdown).</summary>
    Failed,
}

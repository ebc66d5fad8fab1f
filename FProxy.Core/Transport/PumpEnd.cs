namespace FProxy.Transport;

/// <summary>How a proxied connection ended.</summary>
internal enum PumpEnd
{
    /// <summary>Both directions ended with a FIN: a clean close.</summary>
    Closed,

    /// <summary>The client reset (or its socket failed); the target was reset too.</summary>
    ClientReset,

    /// <summary>The target reset (or its socket failed); the client was reset too.</summary>
    TargetReset,

    /// <summary>The proxy reset both sides (drain deadline, shutdown).</summary>
    Aborted,

    /// <summary>No byte moved either way for the app's IdleTimeout: the proxy closed both sides (FIN).</summary>
    IdleTimeout,
}

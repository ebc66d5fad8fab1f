namespace FProxy.Daemon;

/// <summary>A configured port's listener, as <see cref="PortStatus"/> reports it.</summary>
public enum ListenerState
{
    /// <summary>Bound and accepting.</summary>
    Bound,

    /// <summary>Not bound: the bind failed or the listener failed, and it is being retried with backoff.</summary>
    Retrying,
}

namespace FProxy.Balancing;

/// <summary>
/// Where the connector reports each connect to a target: the target's passive health listens. An
/// interface here, so balancing state knows nothing of how health is judged.
/// </summary>
internal interface IConnectOutcomes
{
    /// <summary>A connection to the target was opened.</summary>
    void ConnectSucceeded();

    /// <summary>A connect to the target failed (refused, timed out, unresolvable).</summary>
    void ConnectFailed(string reason);
}

namespace FProxy.FTest.Net;

/// <summary>One connect, send, read: what came back, how long each step took, and the failure if any.</summary>
internal sealed record RoundTripResult(byte[] Reply, TimeSpan Dial, TimeSpan Write, TimeSpan Read, TimeSpan Total, Failure? Failure)
{
    public bool Succeeded => Failure is null;

    /// <summary>From connected to the whole reply read: what a client waits for once connected.</summary>
    public TimeSpan Response => Write + Read;
}

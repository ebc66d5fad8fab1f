using FProxy.ProxyProtocol;

namespace FProxy.FTest.Net;

/// <summary>One connect, send, read: what came back, how long each step took, and the failure if any.</summary>
internal sealed record RoundTripResult(byte[] Reply, TimeSpan Dial, TimeSpan Write, TimeSpan Read, TimeSpan Total, Failure? Failure)
{
    public bool Succeeded => Failure is null;

    /// <summary>From connected to the whole reply read: what a client waits for once connected.</summary>
    public TimeSpan Response => Write + Read;

    /// <summary>The PROXY protocol header sent before the data, as it went out; null when none was.</summary>
    public ProxyHeader? Sent { get; init; }

    /// <summary>
    /// The "PROXY ..." line (without its LF) the target answered with before the reply
    /// (<see cref="ProxyReplyLine"/>): what it says it read from its header. Null when it sent none.
    /// </summary>
    public byte[]? ProxyLine { get; init; }
}

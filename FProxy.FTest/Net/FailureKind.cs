namespace FProxy.FTest.Net;

/// <summary>Why a round trip failed, as reported and counted.</summary>
internal enum FailureKind
{
    /// <summary>Nobody listens: the connect was refused.</summary>
    Refused,

    /// <summary>The peer reset the connection.</summary>
    Reset,

    /// <summary>No complete reply within the timeout.</summary>
    Timeout,

    /// <summary>A reply came, but not the one expected.</summary>
    WrongReply,

    /// <summary>The peer closed the connection before the whole reply came.</summary>
    Closed,

    /// <summary>The host or its network cannot be reached.</summary>
    Unreachable,

    /// <summary>Any other socket error.</summary>
    Other,
}

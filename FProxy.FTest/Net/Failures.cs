using System.Net.Sockets;

namespace FProxy.FTest.Net;

/// <summary>The one place socket errors become failure kinds and words.</summary>
internal static class Failures
{
    public static readonly FailureKind[] All = Enum.GetValues<FailureKind>();

    public static Failure From(SocketException e) => new(Classify(e.SocketErrorCode), Describe(e.SocketErrorCode));

    public static FailureKind Classify(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => FailureKind.Refused,
        SocketError.ConnectionReset or SocketError.ConnectionAborted or SocketError.Shutdown => FailureKind.Reset,
        SocketError.TimedOut => FailureKind.Timeout,
        SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostNotFound
            or SocketError.HostDown or SocketError.NetworkDown or SocketError.TryAgain or SocketError.NoData
            or SocketError.AddressNotAvailable => FailureKind.Unreachable,
        _ => FailureKind.Other,
    };

    public static string Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => "connection refused",
        SocketError.ConnectionReset => "connection reset by peer",
        SocketError.ConnectionAborted => "connection aborted",
        SocketError.TimedOut => "timed out",
        SocketError.HostUnreachable => "host unreachable",
        SocketError.NetworkUnreachable => "network unreachable",
        SocketError.HostNotFound => "host not found",
        SocketError.TryAgain => "name lookup failed (try again)",
        SocketError.NoData => "no address for this name",
        SocketError.AddressNotAvailable => "address not available",
        _ => "socket error " + error,
    };

    /// <summary>The kind as users read it, in reports and JSON.</summary>
    public static string Name(FailureKind kind) => kind switch
    {
        FailureKind.Refused => "refused",
        FailureKind.Reset => "reset",
        FailureKind.Timeout => "timeout",
        FailureKind.WrongReply => "wrong reply",
        FailureKind.Closed => "closed",
        FailureKind.Unreachable => "unreachable",
        _ => "other",
    };
}

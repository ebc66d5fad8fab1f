using System.Net.Sockets;

namespace FProxy.Transport;

/// <summary>
/// The outcome of one socket operation as a value: data-path errors are expected (peers reset,
/// time out, vanish) and must not cost an exception each.
/// </summary>
internal readonly record struct SocketResult(int BytesTransferred, SocketError Error)
{
    public bool Succeeded => Error == SocketError.Success;
}

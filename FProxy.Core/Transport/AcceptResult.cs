using System.Net.Sockets;

namespace FProxy.Transport;

/// <summary>An accepted connection, or why the accept failed.</summary>
internal readonly record struct AcceptResult(TransportConnection? Connection, SocketError Error)
{
    public bool Succeeded => Connection is not null;
}

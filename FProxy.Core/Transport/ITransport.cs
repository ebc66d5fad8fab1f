using System.Net.Sockets;

namespace FProxy.Transport;

/// <summary>
/// How connections are accepted, connected and pumped: the runtime's sockets (everywhere) or
/// FProxy's own epoll loops (Linux). Listening sockets are bound by <see cref="PortListener"/> with
/// the runtime's Socket either way; a transport only accepts from them. One per daemon.
/// </summary>
internal interface ITransport : IAsyncDisposable
{
    /// <summary>"sockets" or "epoll", for logs and status.</summary>
    string Name { get; }

    /// <summary>One acceptor per I/O thread for a bound, listening socket.</summary>
    IAcceptor[] CreateAcceptors(Socket listening);

    /// <summary>Resets every open connection of <paramref name="group"/> (its drain deadline passed).</summary>
    void AbortAll(ConnectionGroup group);
}

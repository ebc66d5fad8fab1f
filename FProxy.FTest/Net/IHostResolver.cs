using System.Net;

namespace FProxy.FTest.Net;

/// <summary>Name lookup, replaceable so tests never query the machine's nameserver.</summary>
internal interface IHostResolver
{
    /// <summary>The host's addresses; throws <see cref="System.Net.Sockets.SocketException"/> when it has none.</summary>
    Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct);
}

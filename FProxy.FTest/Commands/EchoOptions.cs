using System.Net;

namespace FProxy.FTest.Commands;

/// <summary>
/// What <c>ftest echo</c> was asked to do. A non-null Tag makes each backend greet with
/// "TAG:PORT\n" first; ProxyProtocol makes each connection start with a PROXY protocol header,
/// answered with its line before the greeting.
/// </summary>
internal sealed record EchoOptions(IReadOnlyList<int> Ports, IPAddress Bind, string? Tag, bool ProxyProtocol);

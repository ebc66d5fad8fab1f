using FProxy.FTest.Net;

namespace FProxy.FTest.Commands;

/// <summary>What <c>ftest ping</c> was asked to do. A non-null Proxy starts the connection with that PROXY protocol header.</summary>
internal sealed record PingOptions(Address Address, string Data, TimeSpan Timeout, ProxyClaim? Proxy);

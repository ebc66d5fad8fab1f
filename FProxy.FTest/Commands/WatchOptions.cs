using FProxy.FTest.Net;

namespace FProxy.FTest.Commands;

/// <summary>What <c>ftest watch</c> was asked to do. A non-null Proxy starts every connection with that PROXY protocol header.</summary>
internal sealed record WatchOptions(Address Address, TimeSpan Interval, TimeSpan Duration, string Data, TimeSpan Timeout, ProxyClaim? Proxy);

using FProxy.FTest.Net;

namespace FProxy.FTest.Commands;

/// <summary>What <c>ftest balancer</c> was asked to do: Data[i] goes out on connection i and Expected[i] must come back, after the PROXY protocol header Proxy when not null.</summary>
internal sealed record BalancerOptions(Address Address, IReadOnlyList<string> Data, IReadOnlyList<string> Expected, TimeSpan Timeout, ProxyClaim? Proxy);

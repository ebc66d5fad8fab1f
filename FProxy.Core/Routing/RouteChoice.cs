using FProxy.Balancing;
using FProxy.Configuration;

namespace FProxy.Routing;

/// <summary>
/// Where a new connection goes: the pool to pick a target from (null: the client went away while
/// it was read), the server name when one was read, and the PROXY protocol header its targets get.
/// </summary>
internal readonly record struct RouteChoice(TargetPool? Pool, string? ServerName, ProxyProtocolVersion Header = ProxyProtocolVersion.None);

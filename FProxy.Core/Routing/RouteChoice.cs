using FProxy.Balancing;

namespace FProxy.Routing;

/// <summary>Where a new connection goes: the pool to pick a target from (null: the client went away while it was read), and the server name when one was read.</summary>
internal readonly record struct RouteChoice(TargetPool? Pool, string? ServerName);

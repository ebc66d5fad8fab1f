namespace FProxy.Transport;

/// <summary>Byte counts and the way a connection ended.</summary>
internal readonly record struct PumpResult(long ClientToTarget, long TargetToClient, PumpEnd End);

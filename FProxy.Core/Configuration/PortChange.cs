namespace FProxy.Configuration;

/// <summary>One port's change between two snapshots, with the app before and after.</summary>
internal readonly record struct PortChange(int Port, PortChangeKind Kind, AppConfig? Before, AppConfig? After);

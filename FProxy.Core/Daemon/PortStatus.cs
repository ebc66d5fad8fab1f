namespace FProxy.Daemon;

/// <summary>A configured port.</summary>
/// <param name="Port">The port.</param>
/// <param name="State">Whether it is listening.</param>
/// <param name="Error">Why it is not, when retrying.</param>
public sealed record PortStatus(int Port, ListenerState State, string? Error);

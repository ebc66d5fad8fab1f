namespace FProxy.FTest.Net;

/// <summary>A problem reported to the user as one line (never a stack trace), with its exit code.</summary>
internal sealed class ToolException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    /// <summary>
    /// The problem may pass by itself (a server that did not answer), so a command that waits for
    /// something (<c>ftest fleet wait</c>) tries again instead of giving up.
    /// </summary>
    public bool Transient { get; init; }
}

namespace FProxy.FTest.Net;

/// <summary>A problem reported to the user as one line (never a stack trace), with its exit code.</summary>
internal sealed class ToolException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}

namespace FProxy.FTest.Net;

/// <summary>ftest's exit codes.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>A fault: refused, reset, timeout, wrong reply, unreachable host.</summary>
    public const int Failure = 1;

    /// <summary>A usage error: unknown option, bad address, duration or count.</summary>
    public const int Usage = 2;

    /// <summary>An invalid config file (<c>ftest fleet push</c>): the code fproxy itself exits with for one.</summary>
    public const int InvalidConfig = 2;
}

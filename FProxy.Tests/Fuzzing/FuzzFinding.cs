namespace FProxy.Tests.Fuzzing;

/// <summary>
/// A fuzz property does not hold for an input. Properties throw this rather than call NUnit's
/// Assert, which records every failure in the test's result: CsCheck's shrinking fails the same
/// property thousands of times on purpose, and only the smallest failure is the finding.
/// </summary>
internal sealed class FuzzFinding : Exception
{
    public FuzzFinding(string message)
        : base(message)
    {
    }

    public FuzzFinding()
    {
    }

    public FuzzFinding(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Throws a finding with <paramref name="message"/> unless <paramref name="condition"/> holds.</summary>
    public static void Require(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzFinding(message);
        }
    }
}

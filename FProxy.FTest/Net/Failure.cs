namespace FProxy.FTest.Net;

/// <summary>A failed round trip: its kind and a one-line description.</summary>
internal sealed record Failure(FailureKind Kind, string Message)
{
    public override string ToString() => $"{Failures.Name(Kind)}: {Message}";
}

using FProxy.FTest.Net;

namespace FProxy.FTest.Reports;

/// <summary>One failed attempt of a watch: when, and why.</summary>
internal sealed record WatchFailure(DateTimeOffset At, Failure Failure)
{
    public override string ToString() => $"{At.ToLocalTime():HH:mm:ss.fff} {Failure}";
}

using FProxy.FTest.Net;

namespace FProxy.FTest.Reports;

/// <summary>What a load run measured: requests, errors by kind, throughput, dial and response latency.</summary>
internal sealed record LoadReport(
    string Address,
    int Requests,
    int Succeeded,
    IReadOnlyDictionary<FailureKind, int> Errors,
    TimeSpan Elapsed,
    Latency Dial,
    Latency Response)
{
    public int Failed => Requests - Succeeded;

    /// <summary>Completed round trips (either outcome) per second.</summary>
    public double Throughput => Elapsed > TimeSpan.Zero ? Requests / Elapsed.TotalSeconds : 0;
}

using FProxy.FTest.Net;

namespace FProxy.FTest.Commands;

/// <summary>What <c>ftest simulate</c> was asked to do. With neither Requests nor Duration, each worker sends one request. A non-null Proxy starts every connection with that PROXY protocol header.</summary>
internal sealed record SimulateOptions(
    Address Address,
    int Concurrency,
    string Data,
    int? Requests,
    TimeSpan? Duration,
    double? Rate,
    TimeSpan Timeout,
    bool Json,
    ProxyClaim? Proxy);

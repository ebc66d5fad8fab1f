using FProxy.FTest.Net;

namespace FProxy.FTest.Commands;

/// <summary>What <c>ftest ping</c> was asked to do.</summary>
internal sealed record PingOptions(Address Address, string Data, TimeSpan Timeout);

using FProxy.FTest.Net;

namespace FProxy.FTest.Commands;

/// <summary>What <c>ftest watch</c> was asked to do.</summary>
internal sealed record WatchOptions(Address Address, TimeSpan Interval, TimeSpan Duration, string Data, TimeSpan Timeout);

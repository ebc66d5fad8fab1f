using System.Net;

namespace FProxy.FTest.Commands;

/// <summary>What <c>ftest echo</c> was asked to do. A non-null Tag makes each backend greet with "TAG:PORT\n" first.</summary>
internal sealed record EchoOptions(IReadOnlyList<int> Ports, IPAddress Bind, string? Tag);

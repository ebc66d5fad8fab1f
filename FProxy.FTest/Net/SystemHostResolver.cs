using System.Net;

namespace FProxy.FTest.Net;

/// <summary>The operating system's resolver (/etc/hosts, then DNS).</summary>
internal sealed class SystemHostResolver : IHostResolver
{
    public static readonly SystemHostResolver Instance = new();

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => Dns.GetHostAddressesAsync(host, ct);
}

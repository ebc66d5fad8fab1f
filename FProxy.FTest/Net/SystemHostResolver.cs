using System.Net;

namespace FProxy.FTest.Net;

/// <summary>The operating system's resolver (/etc/hosts, then DNS).</summary>
internal sealed class SystemHostResolver : IHostResolver
{
    public static readonly SystemHostResolver Instance = new();

    // Spelt out: ftest references FProxy.Core (through FProxy.Etcd), whose FProxy.Dns namespace
    // would otherwise win over System.Net.Dns here.
    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken ct) => System.Net.Dns.GetHostAddressesAsync(host, ct);
}

using System.Collections.Concurrent;
using System.Net;
using FProxy.Dns;

namespace FProxy.Tests.Infrastructure;

/// <summary>An in-memory name table for connector and daemon tests that need no DNS.</summary>
internal sealed class StaticResolver : IAddressResolver
{
    private readonly ConcurrentDictionary<string, IPAddress[]> _names = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<string> Names { get; private set; } = [];

    public void Set(string host, params IPAddress[] addresses) => _names[host] = addresses;

    public ValueTask<DnsAnswer> GetAsync(string host, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_names.TryGetValue(host, out var a) ? new DnsAnswer(a, null) : DnsAnswer.Failed($"\"{host}\" not found (NXDOMAIN)"));

    public void SetNames(IEnumerable<string> hosts) => Names = [.. hosts];
}

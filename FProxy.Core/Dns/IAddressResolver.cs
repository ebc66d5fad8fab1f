namespace FProxy.Dns;

/// <summary>Looks up a target host name's addresses: the connector's view of the address table.</summary>
internal interface IAddressResolver
{
    /// <summary>
    /// The addresses in connection order (families interleaved, IPv6 first), or an error as a
    /// value. Returns synchronously when the name is in the table.
    /// </summary>
    ValueTask<DnsAnswer> GetAsync(string host, CancellationToken cancellationToken);

    /// <summary>The names the running config uses: resolve new ones now, forget the others.</summary>
    void SetNames(IEnumerable<string> hosts);
}

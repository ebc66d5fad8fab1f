using System.Net;
using FProxy.Balancing;
using FProxy.Configuration;

namespace FProxy.Routing;

/// <summary>
/// A compiled <see cref="RuleConfig"/>: its criteria parsed once, and the pool its matches go to.
/// Address and port are checked first, for free; SNI only when those hold (it may need to wait
/// for the client's first bytes).
/// </summary>
internal sealed class RouteRule
{
    private readonly AddressRanges _sources;
    private readonly int[] _ports;
    private readonly string[] _sni;

    public RouteRule(MatchConfig match, TargetPool pool, ProxyProtocolVersion header = ProxyProtocolVersion.None)
    {
        Header = header;
        _sources = new AddressRanges(match.SourceCidrs, nameof(match));
        _ports = [.. match.Ports];
        _sni = [.. match.Sni];
        Pool = pool;
    }

    public TargetPool Pool { get; }

    /// <summary>The PROXY protocol header this rule's targets get (the rule's own, else the app's).</summary>
    public ProxyProtocolVersion Header { get; }

    public bool NeedsServerName => _sni.Length > 0;

    /// <summary>Whether the client's address and the local port satisfy the rule (SNI aside).</summary>
    public bool MatchesConnection(IPAddress? client, int port)
    {
        if (_ports.Length > 0 && Array.IndexOf(_ports, port) < 0)
        {
            return false;
        }

        return _sources.IsEmpty || _sources.Contains(client);
    }

    /// <summary>Whether <paramref name="serverName"/> (null: none was read) satisfies the rule's SNI patterns.</summary>
    public bool MatchesServerName(string? serverName)
    {
        if (_sni.Length == 0)
        {
            return true;
        }

        if (serverName is null)
        {
            return false;
        }

        foreach (var pattern in _sni)
        {
            if (SniPattern.Matches(pattern, serverName))
            {
                return true;
            }
        }

        return false;
    }
}

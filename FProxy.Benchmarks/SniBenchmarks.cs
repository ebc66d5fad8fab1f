using System.Buffers;
using System.Net;
using BenchmarkDotNet.Attributes;
using FProxy.Routing;

namespace FProxy.Benchmarks;

/// <summary>
/// The per-connection cost of rule-based routing's building blocks: reading the SNI host name
/// from a ClientHello (one segment, as a first receive delivers it) and matching the client
/// address against a CIDR range. Both run once per new connection, so they must stay far below
/// the connect latency and allocate nothing: the host-name string comes from the parser's
/// StringPool, made on the first parse (in setup) and reused after.
/// </summary>
[MemoryDiagnoser]
public class SniBenchmarks
{
    private const string ExpectedServerName = "example.ulfheim.net";

    private ReadOnlySequence<byte> _hello;
    private System.Net.IPNetwork _v4Range;
    private System.Net.IPNetwork _v6Range;
    private IPAddress _v4Client = IPAddress.None;
    private IPAddress _v6Client = IPAddress.None;

    [GlobalSetup]
    public void Setup()
    {
        // The TLS 1.3 ClientHello dissected at https://tls13.xargs.org (SNI example.ulfheim.net,
        // ten extensions), a typical size for a client without post-quantum key shares.
        _hello = new ReadOnlySequence<byte>(Convert.FromHexString(
            "16030100f8010000f40303000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000813021303130100ff010000a30000001800160000136578616d706c652e756c666865696d2e6e6574000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000016000000170000000d001e001c040305030603080708080809080a080b080408050806040105010601002b0003020304002d00020101003300260024001d0020358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254"));
        FProxy.Configuration.CidrParser.TryParse("10.0.0.0/8", out _v4Range, out _);
        FProxy.Configuration.CidrParser.TryParse("fd00::/8", out _v6Range, out _);
        _v4Client = IPAddress.Parse("10.1.2.3");
        _v6Client = IPAddress.Parse("fd00::1:2:3");

        // A parser that rejected the hello would be measured failing fast, allocating nothing for
        // the wrong reason; this parse also puts the name in the pool, as a first connection does.
        var result = ClientHelloParser.TryReadServerName(_hello, out var name);
        if (result != SniParseResult.Found || name != ExpectedServerName)
        {
            throw new InvalidOperationException($"The ClientHello parsed as {result} with name '{name}', not {ExpectedServerName}.");
        }
    }

    [Benchmark]
    public string? ParseClientHello()
    {
        ClientHelloParser.TryReadServerName(_hello, out var name);
        return name;
    }

    [Benchmark]
    public bool CidrContainsV4() => _v4Range.Contains(_v4Client);

    [Benchmark]
    public bool CidrContainsV6() => _v6Range.Contains(_v6Client);
}

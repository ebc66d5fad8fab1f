using System.Net;
using BenchmarkDotNet.Attributes;
using FProxy.ProxyProtocol;

namespace FProxy.Benchmarks;

/// <summary>
/// The PROXY protocol header, as a connection would pay for it: parse a v1 header (TCP4, the
/// common one) and a v2 one (TCP6) and a v2 LOCAL one, and write each version (IPv6) into a
/// reused buffer. The addresses stay values, so none of these should allocate.
/// </summary>
[MemoryDiagnoser]
public class ProxyProtocolBenchmarks
{
    private readonly byte[] _buffer = new byte[ProxyHeaderWriter.MaxLength];
    private readonly IPEndPoint _source = IPEndPoint.Parse("[2001:db8::1]:56324");
    private readonly IPEndPoint _destination = IPEndPoint.Parse("[2001:db8::2]:443");
    private readonly IPEndPoint _source4 = IPEndPoint.Parse("192.0.2.1:56324");
    private readonly IPEndPoint _destination4 = IPEndPoint.Parse("198.51.100.2:443");
    private byte[] _v1 = null!;
    private byte[] _v2 = null!;
    private byte[] _local = null!;

    [GlobalSetup]
    public void Setup()
    {
        _v1 = _buffer[..ProxyHeaderWriter.Write(_buffer, 1, _source4, _destination4)];
        _v2 = _buffer[..ProxyHeaderWriter.Write(_buffer, 2, _source, _destination)];
        _local = _buffer[..ProxyHeaderWriter.WriteLocal(_buffer, 2)];
    }

    [Benchmark]
    public int ParseV1() => ProxyHeaderParser.TryParse(_v1, out _, out var consumed, out _) == ProxyParseStatus.Done ? consumed : -1;

    [Benchmark]
    public int ParseV2() => ProxyHeaderParser.TryParse(_v2, out _, out var consumed, out _) == ProxyParseStatus.Done ? consumed : -1;

    [Benchmark]
    public int ParseV2Local() => ProxyHeaderParser.TryParse(_local, out _, out var consumed, out _) == ProxyParseStatus.Done ? consumed : -1;

    [Benchmark]
    public int WriteV1() => ProxyHeaderWriter.Write(_buffer, 1, _source, _destination);

    [Benchmark]
    public int WriteV2() => ProxyHeaderWriter.Write(_buffer, 2, _source, _destination);
}

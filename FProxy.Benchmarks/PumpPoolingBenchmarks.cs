using System.IO.Pipelines;
using BenchmarkDotNet.Attributes;
using FProxy.Transport;
using Microsoft.Extensions.ObjectPool;

namespace FProxy.Benchmarks;

/// <summary>
/// Why ConnectionHandler pools its <see cref="DuplexPump"/>s: a pump is two pipes and four
/// SocketAsyncEventArgs, built once per connection without the pool. Compares building one with
/// taking and returning one from the ObjectPool the handler uses.
/// </summary>
[MemoryDiagnoser]
public class PumpPoolingBenchmarks
{
    private readonly PinnedBlockMemoryPool _memory = new();
    private PipeOptions _options = null!;
    private ObjectPool<DuplexPump> _pool = null!;

    [GlobalSetup]
    public void Setup()
    {
        _options = DuplexPump.CreatePipeOptions(_memory);
        _pool = new DefaultObjectPool<DuplexPump>(new Policy(_options), 64);
    }

    [Benchmark(Baseline = true)]
    public object NewPump() => new DuplexPump(_options);

    [Benchmark]
    public object PooledPump()
    {
        var pump = _pool.Get();
        _pool.Return(pump);
        return pump;
    }

    private sealed class Policy(PipeOptions options) : PooledObjectPolicy<DuplexPump>
    {
        public override DuplexPump Create() => new(options);

        public override bool Return(DuplexPump obj)
        {
            obj.Reset();
            return true;
        }
    }
}

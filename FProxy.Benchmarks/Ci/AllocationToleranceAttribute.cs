namespace FProxy.Benchmarks.Ci;

/// <summary>
/// How many bytes per operation a benchmark class's allocations may differ from the CI baseline.
/// Without it the CI pass wants them exact, which suits code that allocates deterministically. A
/// class whose allocation counter also sees other threads (the memory diagnoser counts the whole
/// process: sockets, an in-process server, a daemon's loops) states its measured noise here.
/// </summary>
/// <param name="bytes">The largest difference, either way, that is still noise.</param>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
internal sealed class AllocationToleranceAttribute(long bytes) : Attribute
{
    public long Bytes { get; } = bytes;
}

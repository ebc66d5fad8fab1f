using System.Buffers;

namespace FProxy.Tests.Routing;

/// <summary>Builds multi-segment sequences, the shape a pipe hands over after several receives.</summary>
internal static class Segments
{
    /// <summary>One segment per chunk of <paramref name="chunkSize"/> bytes (the last may be shorter).</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, int chunkSize) =>
        At(bytes, Enumerable.Range(1, Math.Max(0, (bytes.Length - 1) / chunkSize)).Select(i => i * chunkSize));

    /// <summary>A new segment at each of <paramref name="offsets"/>; those not after the previous one or not inside the bytes are passed over.</summary>
    public static ReadOnlySequence<byte> At(byte[] bytes, IEnumerable<int> offsets)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        Segment? first = null;
        Segment? last = null;
        var start = 0;
        foreach (var end in offsets.Where(o => o < bytes.Length).Append(bytes.Length))
        {
            if (end <= start)
            {
                continue;
            }

            var memory = bytes.AsMemory(start, end - start);
            last = last is null ? first = new Segment(memory, 0) : last.Append(memory);
            start = end;
        }

        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}

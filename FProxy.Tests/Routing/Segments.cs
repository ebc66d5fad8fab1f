using System.Buffers;

namespace FProxy.Tests.Routing;

/// <summary>Builds multi-segment sequences, the shape a pipe hands over after several receives.</summary>
internal static class Segments
{
    /// <summary>One segment per chunk of <paramref name="chunkSize"/> bytes (the last may be shorter).</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, int chunkSize)
    {
        if (bytes.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(bytes.AsMemory(0, Math.Min(chunkSize, bytes.Length)), 0);
        var last = first;
        for (var offset = chunkSize; offset < bytes.Length; offset += chunkSize)
        {
            last = last.Append(bytes.AsMemory(offset, Math.Min(chunkSize, bytes.Length - offset)));
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
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

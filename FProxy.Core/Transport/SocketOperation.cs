using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;
using Microsoft.Extensions.ObjectPool;

namespace FProxy.Transport;

/// <summary>
/// A reusable SocketAsyncEventArgs exposed as an allocation-free awaitable whose result is a
/// <see cref="SocketResult"/> rather than an exception (Kestrel's SocketAwaitableEventArgs idea,
/// with errors as values). One operation may be in flight at a time.
/// </summary>
internal sealed class SocketOperation : SocketAsyncEventArgs, IValueTaskSource<SocketResult>
{
    private List<ArraySegment<byte>>? _bufferList; // Only gather sends need one: made on first use.
    private ManualResetValueTaskSourceCore<SocketResult> _source;

    /// <summary>Operations for short-lived uses (a send, a connect), shared by all connections.</summary>
    private static readonly ObjectPool<SocketOperation> Shared =
        new DefaultObjectPool<SocketOperation>(new DefaultPooledObjectPolicy<SocketOperation>(), 1024);

    public SocketOperation()
        : base(unsafeSuppressExecutionContextFlow: true)
    {
        // Continuations run where the socket completes (inline on the epoll thread when
        // DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=1): see ConnectLatencyBenchmarks.
        _source.RunContinuationsAsynchronously = false;
    }

    /// <summary>
    /// An operation from the shared pool, for a use that ends quickly: sends nearly always complete
    /// at once, so an idle connection need not own one (about 0.6 KB each, measured per idle
    /// connection). Give it back with <see cref="Return"/> once the operation completed.
    /// </summary>
    public static SocketOperation Rent() => Shared.Get();

    /// <summary>Returns a completed operation to the shared pool, holding no buffer or endpoint.</summary>
    public static void Return(SocketOperation operation)
    {
        operation.ReleaseBuffers();
        Shared.Return(operation);
    }

    public ValueTask<SocketResult> ReceiveAsync(Socket socket, Memory<byte> buffer)
    {
        ClearBufferList();
        SetBuffer(buffer);
        bool pending;
        try
        {
            pending = socket.ReceiveAsync(this);
        }
        catch (ObjectDisposedException)
        {
            // Closed by another direction's reset or a drain: a value, like any socket error.
            return new ValueTask<SocketResult>(new SocketResult(0, SocketError.OperationAborted));
        }

        return Complete(pending);
    }

    /// <summary>Sends the whole sequence in one gather call.</summary>
    public ValueTask<SocketResult> SendAsync(Socket socket, in ReadOnlySequence<byte> buffers) => SendAsync(socket, default, buffers);

    /// <summary>Sends <paramref name="first"/> (when not empty; a PROXY protocol header) then the whole sequence, in one gather call.</summary>
    public ValueTask<SocketResult> SendAsync(Socket socket, ArraySegment<byte> first, in ReadOnlySequence<byte> buffers)
    {
        if (first.Count == 0 && buffers.IsSingleSegment)
        {
            ClearBufferList();
            SetBuffer(MemoryMarshal.AsMemory(buffers.First));
        }
        else if (buffers.IsEmpty)
        {
            ClearBufferList();
            SetBuffer(first.Array, first.Offset, first.Count);
        }
        else
        {
            SetBuffer(null, 0, 0);
            _bufferList ??= new List<ArraySegment<byte>>(4);
            _bufferList.Clear();
            if (first.Count > 0)
            {
                _bufferList.Add(first);
            }

            foreach (var segment in buffers)
            {
                if (!MemoryMarshal.TryGetArray(segment, out var array))
                {
                    // The pool hands out array-backed memory only; anything else is a bug.
                    throw new InvalidOperationException("Send buffers must be array-backed.");
                }

                _bufferList.Add(array);
            }

            BufferList = _bufferList;
        }

        bool pending;
        try
        {
            pending = socket.SendAsync(this);
        }
        catch (ObjectDisposedException)
        {
            // Closed by another direction's reset or a drain: a value, like any socket error.
            return new ValueTask<SocketResult>(new SocketResult(0, SocketError.OperationAborted));
        }

        return Complete(pending);
    }

    public ValueTask<SocketResult> ConnectAsync(Socket socket, EndPoint remote)
    {
        ClearBufferList();
        SetBuffer(null, 0, 0);
        RemoteEndPoint = remote;
        bool pending;
        try
        {
            pending = socket.ConnectAsync(this);
        }
        catch (ObjectDisposedException)
        {
            // Closed by another direction's reset or a drain: a value, like any socket error.
            return new ValueTask<SocketResult>(new SocketResult(0, SocketError.OperationAborted));
        }

        return Complete(pending);
    }

    public ValueTask<SocketResult> AcceptAsync(Socket listener)
    {
        ClearBufferList();
        SetBuffer(null, 0, 0);
        AcceptSocket = null;
        bool pending;
        try
        {
            pending = listener.AcceptAsync(this);
        }
        catch (ObjectDisposedException)
        {
            // Closed by another direction's reset or a drain: a value, like any socket error.
            return new ValueTask<SocketResult>(new SocketResult(0, SocketError.OperationAborted));
        }

        return Complete(pending);
    }

    /// <summary>Releases references to buffers so a pooled operation holds no memory while idle.</summary>
    public void ReleaseBuffers()
    {
        ClearBufferList();
        SetBuffer(null, 0, 0);
        AcceptSocket = null;
        RemoteEndPoint = null;
    }

    protected override void OnCompleted(SocketAsyncEventArgs e) =>
        _source.SetResult(new SocketResult(BytesTransferred, SocketError));

    private ValueTask<SocketResult> Complete(bool pending)
    {
        if (!pending)
        {
            return new ValueTask<SocketResult>(new SocketResult(BytesTransferred, SocketError));
        }

        return new ValueTask<SocketResult>(this, _source.Version);
    }

    private void ClearBufferList()
    {
        if (BufferList is not null)
        {
            BufferList = null;
            _bufferList?.Clear();
        }
    }

    SocketResult IValueTaskSource<SocketResult>.GetResult(short token)
    {
        var result = _source.GetResult(token);
        _source.Reset();
        return result;
    }

    ValueTaskSourceStatus IValueTaskSource<SocketResult>.GetStatus(short token) => _source.GetStatus(token);

    void IValueTaskSource<SocketResult>.OnCompleted(
        Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _source.OnCompleted(continuation, state, token, flags);
}

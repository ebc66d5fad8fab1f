using FProxy.Configuration;

namespace FProxy.Tests.Configuration;

/// <summary>
/// Reads a subscriber's stream one snapshot at a time with a deadline, always keeping the next
/// read pending (as the daemon does), and on dispose cancels
/// the stream and waits for it to end, so its directory watcher is released.
/// </summary>
internal sealed class ConfigStream : IAsyncDisposable
{
    private readonly CancellationTokenSource _cancel;
    private readonly IAsyncEnumerator<ProxyConfig> _enumerator;
    private Task<bool>? _pending;

    public ConfigStream(IConfigSubscriber subscriber, CancellationToken testCancellation, IConfigFeedback? feedback = null)
    {
        _cancel = CancellationTokenSource.CreateLinkedTokenSource(testCancellation);
        _enumerator = subscriber.WatchAsync(feedback ?? new RecordingFeedback(), _cancel.Token).GetAsyncEnumerator(_cancel.Token);
    }

    /// <summary>The next snapshot; fails the test if none comes within <paramref name="timeout"/>.</summary>
    public async Task<ProxyConfig> NextAsync(TimeSpan? timeout = null)
    {
        _pending ??= _enumerator.MoveNextAsync().AsTask();
        var limit = timeout ?? TimeSpan.FromSeconds(10);
        if (await Task.WhenAny(_pending, Task.Delay(limit)) != _pending)
        {
            Assert.Fail($"no config emitted within {limit}");
        }

        var moved = await _pending;
        _pending = null;
        Assert.That(moved, Is.True, "the stream ended");
        var current = _enumerator.Current;

        // Keep the iterator running, as a consumer awaiting the next snapshot would: an async
        // iterator does nothing between MoveNextAsync calls.
        _pending = _enumerator.MoveNextAsync().AsTask();
        return current;
    }

    public async ValueTask DisposeAsync()
    {
        await _cancel.CancelAsync();
        if (_pending is not null)
        {
            try
            {
                await _pending;
            }
            catch (OperationCanceledException)
            {
                // The stream ends by cancellation.
            }
        }

        await _enumerator.DisposeAsync();
        _cancel.Dispose();
    }
}

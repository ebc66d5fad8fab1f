using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace FProxy.Daemon;

/// <summary>
/// Fans daemon events out to every watcher. Each watcher has its own bounded buffer that drops
/// its oldest events when it falls behind, so a slow admin client can never hold up the daemon.
/// Events are rare (rollouts, binds, health changes): a lock on publish is fine.
/// </summary>
internal sealed class EventHub
{
    /// <summary>Enough for a rollout of a large config (one event per port) read by a slow client.</summary>
    private const int BufferPerWatcher = 4096;

    private readonly List<Channel<DaemonEvent>> _watchers = [];

    public void Publish(DaemonEvent daemonEvent)
    {
        lock (_watchers)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryWrite(daemonEvent);
            }
        }
    }

    /// <summary>Events published from now on, until <paramref name="cancellationToken"/> is cancelled.</summary>
    public async IAsyncEnumerable<DaemonEvent> WatchAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<DaemonEvent>(new BoundedChannelOptions(BufferPerWatcher)
        {
            FullMode = BoundedChannelFullMode.DropOldest,
            SingleReader = true,
        });
        lock (_watchers)
        {
            _watchers.Add(channel);
        }

        try
        {
            while (await channel.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                while (channel.Reader.TryRead(out var daemonEvent))
                {
                    yield return daemonEvent;
                }
            }
        }
        finally
        {
            lock (_watchers)
            {
                _watchers.Remove(channel);
            }
        }
    }

    /// <summary>Ends every watch (the daemon stopped).</summary>
    public void Complete()
    {
        lock (_watchers)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Writer.TryComplete();
            }
        }
    }
}

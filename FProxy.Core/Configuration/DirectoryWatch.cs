using System.Threading.Channels;

namespace FProxy.Configuration;

/// <summary>
/// Wakes a config reader when anything happens in a directory, and on a periodic tick.
/// Watching the directory rather than the file is what makes editor saves (write a temp file,
/// rename it over) and Kubernetes ConfigMap swaps (repoint the ..data symlink) visible: a watch
/// on the file itself would follow the old inode. The tick lets the reader compare the file's
/// identity, covering what inotify misses (a replaced directory, an overflowed queue).
/// Holds one inotify instance on Linux, released by <see cref="Dispose"/>.
/// </summary>
internal sealed class DirectoryWatch : IDisposable
{
    private readonly FileSystemWatcher _watcher;
    private readonly ITimer _tick;
    private readonly TimeProvider _time;
    private readonly Action<Exception> _onError;

    // Capacity 1 and DropWrite: a wake-up is a level, not a count. Whether a directory event
    // happened is kept apart in _changed, so a pending tick never hides one.
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    private int _changed;
    private long _lastEventTimestamp;

    public DirectoryWatch(string directory, TimeSpan tickInterval, TimeProvider time, Action<Exception> onError)
    {
        _time = time;
        _onError = onError;
        _watcher = new FileSystemWatcher(directory)
        {
            IncludeSubdirectories = false,

            // Not LastAccess: our own reads would wake us forever.
            NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.Attributes
                | NotifyFilters.Size | NotifyFilters.LastWrite | NotifyFilters.CreationTime | NotifyFilters.Security,
        };
        _watcher.Changed += OnEvent;
        _watcher.Created += OnEvent;
        _watcher.Deleted += OnEvent;
        _watcher.Renamed += OnEvent;
        _watcher.Error += OnError;
        _watcher.EnableRaisingEvents = true;
        _tick = time.CreateTimer(static state => ((DirectoryWatch)state!)._wake.Writer.TryWrite(true), this, tickInterval, tickInterval);
    }

    /// <summary>When the last directory event (or watcher error) happened, as a <see cref="TimeProvider"/> timestamp.</summary>
    public long LastEventTimestamp => Volatile.Read(ref _lastEventTimestamp);

    /// <summary>Completes at the next directory event or tick (at once if one came since the last call).</summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _wake.Reader.ReadAsync(cancellationToken);

    /// <summary>Whether a directory event or watcher error happened since the last call; clears the flag.</summary>
    public bool TakeChanged() => Interlocked.Exchange(ref _changed, 0) == 1;

    public void Dispose()
    {
        _tick.Dispose();
        _watcher.EnableRaisingEvents = false;
        _watcher.Dispose();
    }

    /// <summary>Wakes the reader as a directory event would: it reads the file after the debounce.</summary>
    public void Poke() => Signal();

    private void OnEvent(object sender, FileSystemEventArgs e) => Signal();

    private void OnError(object sender, ErrorEventArgs e)
    {
        _onError(e.GetException());
        Signal();
    }

    private void Signal()
    {
        Volatile.Write(ref _lastEventTimestamp, _time.GetTimestamp());
        Volatile.Write(ref _changed, 1);
        _wake.Writer.TryWrite(true);
    }
}

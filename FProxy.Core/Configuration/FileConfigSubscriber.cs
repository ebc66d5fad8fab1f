using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace FProxy.Configuration;

/// <summary>
/// Watches a JSON config file and emits a validated snapshot each time its content changes.
/// </summary>
/// <remarks>
/// <para>
/// The file's directory is watched, not the file, so every way of saving is seen: writing in
/// place, writing a temp file and renaming it over (editors, atomic deploys), and Kubernetes
/// ConfigMap volumes, which swap a <c>..data</c> symlink to a new directory. Any event in the
/// directory, a watcher error, or a change in the file's identity (resolved path, length, last
/// write time; checked every poll interval) triggers a re-read. Bursts are debounced, so a
/// change is applied within about a second of the last write.
/// </para>
/// <para>
/// An invalid new version is logged as an error listing every problem and is not emitted (the
/// last good config stays in force); a file missing in the middle of a swap is retried; a
/// version equal to the last one emitted is not emitted again. Each enumeration of
/// <see cref="WatchAsync"/> holds one directory watcher (one inotify instance on Linux) until
/// the enumeration ends, so dispose or cancel it.
/// </para>
/// </remarks>
public sealed class FileConfigSubscriber : IConfigSubscriber
{
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConfigSchema _schema;
    private DirectoryWatch? _watch; // Of the running WatchAsync, for Reload.
    private bool _reloadRequested;

    /// <summary>Creates a subscriber for the config file at <paramref name="path"/>.</summary>
    /// <param name="path">The config file; relative paths are resolved against the current directory.</param>
    /// <param name="logger">Receives reloads, invalid versions and watcher failures.</param>
    /// <param name="timeProvider">Clock for debouncing and polling; <see cref="TimeProvider.System"/> when null.</param>
    /// <param name="schema">
    /// The strategy and probe names the config may use; <see cref="ConfigSchema.Default"/> (the
    /// built-ins) when null. A daemon with custom registrations passes its own
    /// (<see cref="Daemon.ProxyDaemon.Schema"/>).
    /// </param>
    public FileConfigSubscriber(
        string path, ILogger<FileConfigSubscriber> logger, TimeProvider? timeProvider = null, ConfigSchema? schema = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(logger);
        FilePath = path;
        _logger = logger;
        _time = timeProvider ?? TimeProvider.System;
        _schema = schema ?? ConfigSchema.Default;
    }

    /// <summary>
    /// Reads the file again now (what SIGHUP asks of the host), as if it had changed: a new valid
    /// version is emitted, an invalid one reported, and an unchanged one logged as such. Does
    /// nothing when no <see cref="WatchAsync"/> is running.
    /// </summary>
    public void Reload()
    {
        Volatile.Write(ref _reloadRequested, true);
        Volatile.Read(ref _watch)?.Poke();
    }

    /// <summary>The config file, as given.</summary>
    public string FilePath { get; }

    /// <summary>Quiet time after the last directory event before the file is read.</summary>
    internal TimeSpan Debounce { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Longest a stream of events can delay a read.</summary>
    internal TimeSpan MaxDebounce { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the file's identity is compared (and a missing or unreadable file retried).</summary>
    internal TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <inheritdoc/>
    /// <exception cref="ConfigException">The file is missing, unreadable or invalid at the start.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled.</exception>
    public async IAsyncEnumerable<ProxyConfig> WatchAsync(IConfigFeedback feedback, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(feedback);
        var fullPath = Path.GetFullPath(FilePath);
        var directory = Path.GetDirectoryName(fullPath) ?? fullPath;
        if (!Directory.Exists(directory))
        {
            throw new ConfigException($"config file \"{FilePath}\" not found", new DirectoryNotFoundException(directory));
        }

        // Start watching before the first read, so that a change made during it is not missed.
        using var watch = new DirectoryWatch(directory, PollInterval, _time, e => ConfigLog.WatcherFailed(_logger, directory, e));
        Volatile.Write(ref _watch, watch);
        var identity = FileIdentity.Of(fullPath);
        var last = ConfigFile.Load(FilePath, _schema);
        ConfigLog.Loaded(_logger, FilePath, Diagnostics.Counted.Of(last.Apps.Count, "app"));
        ConfigLog.WatchStarted(_logger, FilePath, Duration.Format(PollInterval));
        try
        {
            yield return last;

            var failing = false;
            var retry = false;
            string? rejected = null;
            while (true)
            {
                await watch.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (watch.TakeChanged())
                {
                    await DebounceAsync(watch, cancellationToken).ConfigureAwait(false);
                }
                else if (!retry && FileIdentity.Of(fullPath) == identity)
                {
                    continue;
                }

                identity = FileIdentity.Of(fullPath);
                var requested = Volatile.Read(ref _reloadRequested) && Interlocked.Exchange(ref _reloadRequested, false);
                if (requested)
                {
                    rejected = null; // Asked to read again: an invalid file is reported again.
                }

                var next = TryRead(feedback, () => IsBeingWritten(fullPath, identity), ref failing, ref rejected, out retry);
                if (next is null)
                {
                    continue;
                }

                if (next == last)
                {
                    if (requested)
                    {
                        ConfigLog.ReloadUnchanged(_logger, FilePath);
                    }
                    else
                    {
                        ConfigLog.Unchanged(_logger, FilePath);
                    }

                    continue;
                }

                last = next;
                ConfigLog.Reloaded(_logger, FilePath, Diagnostics.Counted.Of(next.Apps.Count, "app"));
                yield return next;
            }
        }
        finally
        {
            Interlocked.CompareExchange(ref _watch, null, watch);
            ConfigLog.WatchStopped(_logger, FilePath);
        }
    }

    /// <summary>Waits until no directory event came for <see cref="Debounce"/>, or <see cref="MaxDebounce"/> passed.</summary>
    private async Task DebounceAsync(DirectoryWatch watch, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        while (true)
        {
            var wait = Debounce - _time.GetElapsedTime(watch.LastEventTimestamp);
            var left = MaxDebounce - _time.GetElapsedTime(start);
            if (left < wait)
            {
                wait = left;
            }

            if (wait <= TimeSpan.Zero)
            {
                break;
            }

            await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(false);
        }

        // The read that follows covers every event so far.
        watch.TakeChanged();
    }

    /// <summary>
    /// Reads and parses the file; null when it is missing, unreadable (then <paramref name="retry"/>
    /// is set) or invalid. Read failures are logged once until a read succeeds; an invalid version
    /// is logged once, however often the same text is read again (<paramref name="rejected"/>).
    /// </summary>
    private ProxyConfig? TryRead(IConfigFeedback feedback, Func<bool> beingWritten, ref bool failing, ref string? rejected, out bool retry)
    {
        retry = false;
        string text;
        try
        {
            text = ConfigFile.Read(FilePath);
        }
        catch (ConfigException e)
        {
            retry = true;
            if (!failing)
            {
                if (ConfigFile.IsNotFound(e))
                {
                    ConfigLog.Missing(_logger, FilePath);
                }
                else
                {
                    ConfigLog.ReadFailed(_logger, FilePath, e.Message);
                }
            }

            failing = true;
            return null;
        }

        failing = false;
        if (string.Equals(text, rejected, StringComparison.Ordinal))
        {
            ConfigLog.StillInvalid(_logger, FilePath);
            return null;
        }

        try
        {
            var config = ConfigParser.Parse(text, FilePath, _schema);
            rejected = null;
            return config;
        }
        catch (ConfigException e)
        {
            if (beingWritten())
            {
                // Caught half-way through an in-place write: not a broken config yet. Read it
                // again at the next poll, once the writer has stopped.
                retry = true;
                ConfigLog.ReadWhileWritten(_logger, FilePath);
                return null;
            }

            rejected = text;
            feedback.Rejected(e);
            return null;
        }
    }

    /// <summary>
    /// Whether a writer is still at work on the file: it changed since <paramref name="identity"/>
    /// was taken (just before the read), or was last written less than the debounce time ago. Only
    /// the file's own times count, not its directory's events, which other files make too. File
    /// times are the system clock's, so this reads that clock, not the injected one.
    /// </summary>
    private bool IsBeingWritten(string fullPath, FileIdentity? identity) =>
        FileIdentity.Of(fullPath) is not { } now || now != identity || DateTime.UtcNow - now.LastWriteUtc < Debounce;
}

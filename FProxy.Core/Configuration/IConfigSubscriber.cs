namespace FProxy.Configuration;

/// <summary>
/// A source of configuration: it emits whole validated snapshots (level-triggered), never deltas,
/// so the daemon can diff each one against what runs. File and etcd sources share this contract.
/// </summary>
public interface IConfigSubscriber
{
    /// <summary>
    /// Streams snapshots. The first is the current configuration; a source may end the stream with
    /// <see cref="ConfigException"/> when it cannot produce one at all (the file source does, so a
    /// host fails to start on an invalid file). Later invalid versions are reported to
    /// <paramref name="feedback"/> and skipped; a snapshot equal to the last one emitted is not
    /// emitted again. The daemon validates every snapshot it receives
    /// (<see cref="ConfigValidator"/>), so a source may emit configs it built without checking them.
    /// </summary>
    /// <param name="feedback">Receives each rejected version (the daemon, which logs, counts and publishes it).</param>
    /// <param name="cancellationToken">Ends the stream.</param>
    IAsyncEnumerable<ProxyConfig> WatchAsync(IConfigFeedback feedback, CancellationToken cancellationToken);
}

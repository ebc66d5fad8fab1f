namespace FProxy.Configuration;

/// <summary>
/// A source of configuration: it emits whole validated snapshots (level-triggered), never deltas,
/// so the daemon can diff each one against what runs. File and etcd sources share this contract.
/// </summary>
public interface IConfigSubscriber
{
    /// <summary>
    /// Streams snapshots. The first is the current configuration; if it cannot be loaded or is
    /// invalid, enumeration throws <see cref="ConfigException"/>. Later invalid versions are
    /// reported by the subscriber and skipped; a snapshot equal to the last one emitted is not
    /// emitted again.
    /// </summary>
    /// <param name="cancellationToken">Ends the stream.</param>
    IAsyncEnumerable<ProxyConfig> WatchAsync(CancellationToken cancellationToken);
}

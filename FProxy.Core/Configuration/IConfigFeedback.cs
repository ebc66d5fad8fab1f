namespace FProxy.Configuration;

/// <summary>
/// Where a config source reports what it could not emit, so that the daemon logs, counts and
/// publishes every source's rejections alike (a file, etcd, a source of your own).
/// </summary>
/// <remarks><see cref="Daemon.ProxyDaemon"/> implements it and hands itself to the sources it runs.</remarks>
public interface IConfigFeedback
{
    /// <summary>
    /// A new version of the config, or one part of it (<see cref="ConfigException.Part"/>), was
    /// invalid and is not emitted; the running config stays in force.
    /// </summary>
    /// <param name="error">Every problem found, where the config came from, and which part when the source has several.</param>
    void Rejected(ConfigException error);

    /// <summary>
    /// The config in force now. A source that needs to know whether a snapshot it emitted was
    /// applied (to report it, or keep a copy of it) compares it with this once the daemon asks for
    /// the next one: the daemon keeps the very instance it applied.
    /// </summary>
    ProxyConfig Current { get; }
}

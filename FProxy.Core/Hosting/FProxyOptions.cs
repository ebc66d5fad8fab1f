using FProxy.Daemon;

namespace FProxy.Hosting;

/// <summary>
/// What <see cref="FProxyServiceCollectionExtensions.AddFProxy"/> runs with: bound from
/// configuration (a section such as <c>"FProxy"</c>), then from code, and validated when the host
/// starts (an invalid value stops the start with a message naming it).
/// </summary>
/// <example>
/// <code>
/// "FProxy": { "ConfigPath": "/etc/fproxy/config.json", "ShutdownDelay": "00:00:05", "Transport": "Auto" }
/// </code>
/// </example>
public sealed class FProxyOptions
{
    /// <summary>The config file the default source watches (relative to the working directory); unused with another source.</summary>
    public string ConfigPath { get; set; } = "config.json";

    /// <summary>
    /// After the host is asked to stop, how long the listeners stay open while readiness already
    /// says "not ready", so that a load balancer stops sending first (default 0).
    /// </summary>
    public TimeSpan ShutdownDelay { get; set; }

    /// <summary>The transport behind the proxy ports; see <see cref="ProxyDaemonOptions.Transport"/>.</summary>
    public ProxyTransport Transport { get; set; } = ProxyTransport.Auto;

    /// <summary>The epoll transport's event loops; null for one per processor.</summary>
    public int? IoThreads { get; set; }

    /// <summary>Whether bulk streams move through splice(2) on the epoll transport (default true).</summary>
    public bool Splice { get; set; } = true;

    /// <summary>Log every connection of every app, whatever each app's <c>AccessLog</c> says.</summary>
    public bool AccessLogAll { get; set; }

    /// <summary>
    /// Nameservers for target names, as <see cref="Dns.DnsOptions.ParseServers"/> reads them
    /// (<c>"10.0.0.2, [fd00::2]:53"</c>); null or empty for the system's.
    /// </summary>
    public string? DnsServers { get; set; }

    /// <summary>
    /// Raise the process's soft open-files limit to its hard limit at start (default true): each
    /// proxied connection holds two descriptors, and the usual soft default of 1,024 caps a proxy at
    /// about 450 connections.
    /// </summary>
    public bool RaiseOpenFilesLimit { get; set; } = true;
}

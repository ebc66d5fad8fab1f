namespace FProxy.Daemon;

/// <summary>Which transport accepts, connects and pumps a daemon's connections (see docs/performance.md).</summary>
public enum ProxyTransport
{
    /// <summary>Epoll where it runs (Linux on x64 or arm64), the runtime's sockets elsewhere.</summary>
    Auto,

    /// <summary>System.Net.Sockets with a System.IO.Pipelines pump: every operating system.</summary>
    Sockets,

    /// <summary>FProxy's own epoll event loops, with splice(2) for bulk streams: Linux on x64 or arm64.</summary>
    Epoll,
}

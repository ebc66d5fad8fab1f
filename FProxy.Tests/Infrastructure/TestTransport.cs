using System.Buffers;
using FProxy.Daemon;
using FProxy.Transport;
using FProxy.Transport.Linux;
using FProxy.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// The transport the tests run on: FPROXY_TRANSPORT (auto, epoll or sockets), as the host reads it,
/// so CI runs the suite once per transport. Auto is epoll on Linux.
/// </summary>
internal static class TestTransport
{
    public static ProxyTransport Kind { get; } = Environment.GetEnvironmentVariable("FPROXY_TRANSPORT")?.Trim().ToUpperInvariant() switch
    {
        "SOCKETS" => ProxyTransport.Sockets,
        "EPOLL" => ProxyTransport.Epoll,
        _ => ProxyTransport.Auto,
    };

    /// <summary>The kind <see cref="Kind"/> stands for on this machine.</summary>
    public static ProxyTransport Resolved => Resolve(Kind);

    public static ProxyTransport Resolve(ProxyTransport kind) =>
        kind == ProxyTransport.Auto ? (EpollTransport.IsSupported ? ProxyTransport.Epoll : ProxyTransport.Sockets) : kind;

    /// <summary>A transport of <paramref name="kind"/> (default <see cref="Kind"/>), two I/O threads for epoll.</summary>
    public static ITransport Create(TimeProvider? time = null, MemoryPool<byte>? pool = null, ProxyTransport? kind = null, ConnectionBudget? budget = null) =>
        Resolve(kind ?? Kind) == ProxyTransport.Epoll
            ? new EpollTransport(2, time ?? TimeProvider.System, pool ?? PinnedBlockMemoryPool.Shared,
                new PipeAllowance(budget ?? new ConnectionBudget(4096), 64), NullLogger.Instance)
            : new SocketTransport(time ?? TimeProvider.System, pool ?? PinnedBlockMemoryPool.Shared);
}

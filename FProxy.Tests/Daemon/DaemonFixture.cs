using FProxy.Daemon;
using FProxy.Tests.Infrastructure;
using FProxy.Transport;
using Microsoft.Extensions.Logging;

namespace FProxy.Tests.Daemon;

/// <summary>Shared set-up for daemon tests: a daemon on a private pool and resolver.</summary>
internal static class DaemonFixture
{
    public static ProxyDaemon Create(
        StaticResolver? resolver = null,
        PinnedBlockMemoryPool? pool = null,
        ProxyDaemonOptions? options = null,
        TimeProvider? time = null,
        ILoggerFactory? loggerFactory = null) =>
        new(options ?? new ProxyDaemonOptions { InitialBindRetryDelay = TimeSpan.FromMilliseconds(20), MaxBindRetryDelay = TimeSpan.FromMilliseconds(200) },
            resolver ?? new StaticResolver(), loggerFactory, time, memoryPool: pool ?? new PinnedBlockMemoryPool());
}

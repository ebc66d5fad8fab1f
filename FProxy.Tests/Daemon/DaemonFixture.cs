using FProxy.Daemon;
using FProxy.Tests.Infrastructure;
using FProxy.Transport;
using Microsoft.Extensions.Logging;

namespace FProxy.Tests.Daemon;

/// <summary>Shared set-up for daemon tests: a daemon on a private pool and resolver, on the transport under test.</summary>
internal static class DaemonFixture
{
    public static ProxyDaemon Create(
        StaticResolver? resolver = null,
        PinnedBlockMemoryPool? pool = null,
        ProxyDaemonOptions? options = null,
        TimeProvider? time = null,
        ILoggerFactory? loggerFactory = null)
    {
        options ??= new ProxyDaemonOptions { InitialBindRetryDelay = TimeSpan.FromMilliseconds(20), MaxBindRetryDelay = TimeSpan.FromMilliseconds(200) };
        if (options.Transport == ProxyTransport.Auto)
        {
            options.Transport = TestTransport.Kind;
        }

        return new(options, resolver ?? new StaticResolver(), loggerFactory, time, memoryPool: pool ?? new PinnedBlockMemoryPool());
    }
}

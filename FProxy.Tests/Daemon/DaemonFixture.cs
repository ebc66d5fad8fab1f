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
        ILoggerFactory? loggerFactory = null,
        Func<FProxy.Transport.ITransport, FProxy.Transport.ITransport>? wrapTransport = null)
    {
        options ??= new ProxyDaemonOptions { InitialBindRetryDelay = TimeSpan.FromMilliseconds(20), MaxBindRetryDelay = TimeSpan.FromMilliseconds(200) };
        if (options.Transport == ProxyTransport.Auto)
        {
            options.Transport = TestTransport.Kind;
        }

        return new(options, resolver ?? new StaticResolver(), loggerFactory, time, memoryPool: pool ?? new PinnedBlockMemoryPool(), wrapTransport);
    }

    /// <summary>Collects the daemon's events in the background until the test's token ends.</summary>
    public static System.Collections.Concurrent.ConcurrentQueue<DaemonEvent> Collect(ProxyDaemon daemon, CancellationToken ct)
    {
        var events = new System.Collections.Concurrent.ConcurrentQueue<DaemonEvent>();
        var started = new TaskCompletionSource();
        _ = Task.Run(async () =>
        {
            var stream = daemon.WatchEventsAsync(ct).GetAsyncEnumerator(ct);
            var next = stream.MoveNextAsync(); // Subscribes before the first await completes.
            started.SetResult();
            try
            {
                while (await next)
                {
                    events.Enqueue(stream.Current);
                    next = stream.MoveNextAsync();
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, ct);
        started.Task.Wait(ct);
        return events;
    }
}

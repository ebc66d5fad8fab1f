using System.Collections.Concurrent;
using FProxy.Configuration;
using FProxy.Etcd;
using FProxy.Tests.Configuration;
using FProxy.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace FProxy.Tests.Etcd;

/// <summary>
/// Runs an <see cref="EtcdConfigSubscriber"/> as the daemon would: takes each snapshot, makes it
/// the one in force, asks for the next. Keeps every snapshot, rejection and log line.
/// </summary>
internal sealed class SourceRun : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _running;

    public SourceRun(EtcdOptions options)
    {
        Connection = new EtcdConnection(options);
        Source = new EtcdConfigSubscriber(Connection, Logs.CreateLogger<EtcdConfigSubscriber>());
        Feedback = new RecordingFeedback(Logs.CreateLogger("FProxy.Config"));
        _running = Task.Run(async () =>
        {
            await foreach (var config in Source.WatchAsync(Feedback, _stop.Token))
            {
                Feedback.Current = config;
                Snapshots.Enqueue(config);
            }
        });
    }

    public TestLoggerFactory Logs { get; } = new();

    public EtcdConnection Connection { get; }

    public EtcdConfigSubscriber Source { get; }

    public RecordingFeedback Feedback { get; }

    public ConcurrentQueue<ProxyConfig> Snapshots { get; } = new();

    public ProxyConfig? Latest => Snapshots.LastOrDefault();

    /// <summary>The apps in force now, by name: their ports.</summary>
    public Dictionary<string, int[]> Apps => Feedback.Current.Apps.ToDictionary(static a => a.Name, static a => a.Ports.ToArray());

    public async Task WaitForAsync(Func<bool> condition, string what, double seconds = 10)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!_running.IsCompleted && !condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        if (!_running.IsCompleted && !condition())
        {
            Assert.Fail($"{what}: not within {seconds} s; in force: {string.Join(", ", Apps.Select(static a => $"{a.Key}:[{string.Join(",", a.Value)}]"))}; "
                + $"revision {Source.AppliedRevision}; log:{Environment.NewLine}{string.Join(Environment.NewLine, Logs.Entries.Select(static e => $"[{e.Id}] {e.Message}"))}");
        }

        if (_running.IsFaulted)
        {
            await _running;
        }
    }

    public Task WaitForAppsAsync(string what, params string[] names) =>
        WaitForAsync(() => Apps.Keys.Order(StringComparer.Ordinal).SequenceEqual(names.Order(StringComparer.Ordinal)), what);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        try
        {
            await _running;
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }

        Connection.Dispose();
        Logs.Dispose();
        _stop.Dispose();
    }
}

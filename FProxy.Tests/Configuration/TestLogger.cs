using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FProxy.Tests.Configuration;

/// <summary>Records log entries so tests can wait for an event instead of sleeping.</summary>
internal sealed class TestLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> _entries = new();

    public IReadOnlyList<(LogLevel Level, EventId Id, string Message)> Entries => [.. _entries];

    public int Count(int eventId) => _entries.Count(e => e.Id.Id == eventId);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        _entries.Enqueue((logLevel, eventId, formatter(state, exception)));
        TestContext.Progress.WriteLine($"{logLevel} {eventId.Id}: {formatter(state, exception)}");
    }
}

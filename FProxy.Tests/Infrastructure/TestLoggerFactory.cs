using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace FProxy.Tests.Infrastructure;

/// <summary>Collects every log entry of a daemon, so tests can count events or wait for one.</summary>
internal sealed class TestLoggerFactory : ILoggerFactory
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, int Id, string Message)> _entries = new();

    public IReadOnlyList<(string Category, LogLevel Level, int Id, string Message)> Entries => [.. _entries];

    public int Count(int eventId) => _entries.Count(e => e.Id == eventId);

    public IEnumerable<string> Messages(int eventId) => _entries.Where(e => e.Id == eventId).Select(static e => e.Message);

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Logger(TestLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            owner._entries.Enqueue((category, logLevel, eventId.Id, message));
            if (logLevel >= LogLevel.Information)
            {
                TestContext.Progress.WriteLine($"{logLevel} {eventId.Id}: {message}");
            }
        }
    }
}

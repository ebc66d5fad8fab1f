using System.Collections.Concurrent;
using FProxy.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FProxy.Tests.Configuration;

/// <summary>
/// Stands in for the daemon as a source's <see cref="IConfigFeedback"/>: keeps each rejection and
/// logs it as the daemon does (event 1002), so a test can wait on either.
/// </summary>
internal sealed class RecordingFeedback(ILogger? logger = null) : IConfigFeedback
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    public ConcurrentQueue<ConfigException> Rejections { get; } = new();

    /// <summary>What a test says is in force; the daemon would set it on each applied snapshot.</summary>
    public ProxyConfig Current { get; set; } = ProxyConfig.Empty;

    public void Rejected(ConfigException error)
    {
        Rejections.Enqueue(error);
        ConfigLog.Rejected(_logger, error);
    }
}

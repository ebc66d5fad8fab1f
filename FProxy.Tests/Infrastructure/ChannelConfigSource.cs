using System.Runtime.CompilerServices;
using System.Threading.Channels;
using FProxy.Configuration;

namespace FProxy.Tests.Infrastructure;

/// <summary>A config source of a user's own: snapshots pushed through a channel, unchecked.</summary>
internal sealed class ChannelConfigSource : IConfigSubscriber
{
    private readonly Channel<ProxyConfig> _channel = Channel.CreateUnbounded<ProxyConfig>();

    /// <summary>What the daemon handed the source when it started watching.</summary>
    public IConfigFeedback? Feedback { get; private set; }

    public ValueTask PushAsync(ProxyConfig config, CancellationToken ct) => _channel.Writer.WriteAsync(config, ct);

    public async IAsyncEnumerable<ProxyConfig> WatchAsync(IConfigFeedback feedback, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        Feedback = feedback;
        await foreach (var config in _channel.Reader.ReadAllAsync(cancellationToken))
        {
            yield return config;
        }
    }
}

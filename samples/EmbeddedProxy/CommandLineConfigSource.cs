using System.Runtime.CompilerServices;
using FProxy.Configuration;
using Microsoft.Extensions.Configuration;

namespace EmbeddedProxy;

/// <summary>
/// A config source of its own: one app built in code from the "Sample" section (Port, Targets),
/// using the PreferFirst strategy. A real source would watch a store and yield each new version;
/// FProxy validates every snapshot and reports the ones it rejects.
/// </summary>
internal sealed class CommandLineConfigSource(IConfiguration section) : IConfigSubscriber
{
    public async IAsyncEnumerable<ProxyConfig> WatchAsync(IConfigFeedback feedback, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var port = section.GetValue<int>("Port");
        var targets = section.GetSection("Targets").Get<string[]>() ?? [];
        yield return new ProxyConfig
        {
            Apps =
            [
                new AppConfig
                {
                    Name = "sample",
                    Ports = [port],
                    Bind = System.Net.IPAddress.Loopback,
                    Strategy = "PreferFirst",
                    Targets = [.. targets.Select(ParseTarget)],
                },
            ],
        };

        // One version only: wait until the host stops.
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
    }

    private static TargetConfig ParseTarget(string text)
    {
        var colon = text.LastIndexOf(':');
        return new TargetConfig(text[..colon], int.Parse(text[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }
}

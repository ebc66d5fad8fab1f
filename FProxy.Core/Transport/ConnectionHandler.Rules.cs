using System.Net.Sockets;
using System.Net;
using FProxy.Balancing;
using FProxy.Daemon;

namespace FProxy.Transport;

/// <content>Rule-based routing: which pool a new connection goes to.</content>
internal sealed partial class ConnectionHandler
{
    /// <summary>
    /// First matching rule wins; address and port are checked before SNI, and the ClientHello is
    /// read at most once, only when a rule that still matches needs it. The pump that peeked
    /// keeps the bytes for the target.
    /// </summary>
    private async ValueTask<RuleChoice> ApplyRulesAsync(AppRoute route, Socket client, IPEndPoint? clientEndPoint, int port, CancellationToken abort)
    {
        DuplexPump? pump = null;
        string? serverName = null;
        foreach (var rule in route.Rules)
        {
            if (!rule.MatchesConnection(clientEndPoint?.Address, port))
            {
                continue;
            }

            if (rule.NeedsServerName)
            {
                if (pump is null)
                {
                    pump = _pumps.Get();
                    using var deadline = new CancellationTokenSource(route.Config.SniTimeout, _time);
                    using var onAbort = abort.UnsafeRegister(static s => ((CancellationTokenSource)s!).Cancel(), deadline);
                    string? name;
                    bool failed;
                    try
                    {
                        (name, failed) = await pump.PeekServerNameAsync(client, deadline.Token, abort).ConfigureAwait(false);
                    }
                    catch
                    {
                        // Whatever it was (the socket disposed under it, a bug), the pump never
                        // reaches HandleAsync: back to the pool now, which frees the peeked blocks.
                        _pumps.Return(pump);
                        throw;
                    }

                    if (failed)
                    {
                        return new RuleChoice(null, null, pump);
                    }

                    serverName = name;
                }

                if (!rule.MatchesServerName(serverName))
                {
                    continue;
                }
            }

            return new RuleChoice(rule.Pool, serverName, pump);
        }

        return new RuleChoice(route.DefaultPool, serverName, pump);
    }

    private readonly record struct RuleChoice(TargetPool? Pool, string? ServerName, DuplexPump? Pump);
}

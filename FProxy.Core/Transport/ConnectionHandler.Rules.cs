using FProxy.Balancing;
using FProxy.Daemon;

namespace FProxy.Transport;

/// <content>Rule-based routing: which pool a new connection goes to.</content>
internal sealed partial class ConnectionHandler
{
    /// <summary>
    /// First matching rule wins; address and port are checked before SNI, and the ClientHello is
    /// read at most once, only when a rule that still matches needs it. The connection keeps the
    /// peeked bytes for the target.
    /// </summary>
    private static async ValueTask<RuleChoice> ApplyRulesAsync(AppRoute route, TransportConnection connection, int port)
    {
        var peeked = false;
        string? serverName = null;
        foreach (var rule in route.Rules)
        {
            if (!rule.MatchesConnection(connection.ClientEndPoint?.Address, port))
            {
                continue;
            }

            if (rule.NeedsServerName)
            {
                if (!peeked)
                {
                    peeked = true;
                    var (name, failed) = await connection.PeekServerNameAsync(route.Config.SniTimeout).ConfigureAwait(false);
                    if (failed)
                    {
                        return new RuleChoice(null, null);
                    }

                    serverName = name;
                }

                if (!rule.MatchesServerName(serverName))
                {
                    continue;
                }
            }

            return new RuleChoice(rule.Pool, serverName);
        }

        return new RuleChoice(route.DefaultPool, serverName);
    }

    private readonly record struct RuleChoice(TargetPool? Pool, string? ServerName);
}

using System.CommandLine;
using System.Net;
using FProxy.FTest.Net;

namespace FProxy.FTest.Cli;

/// <summary>
/// <c>--proxy-protocol v1|v2</c> and <c>--source IP:PORT</c>, the same on every command that
/// connects (ping, balancer, simulate, watch): each connection starts with a PROXY protocol
/// header, as if ftest were a proxy relaying a client.
/// </summary>
internal sealed class ProxyProtocolOption
{
    public const string SourceWithoutVersion = "--source needs --proxy-protocol: it is the client address the PROXY header claims";

    public Option<int> Version { get; } = new("--proxy-protocol")
    {
        Description = "Start each connection with a PROXY protocol header, v1 (text) or v2 (binary)",
        HelpName = "v1|v2",
        CustomParser = static result =>
        {
            var text = result.Tokens[0].Value;
            if (string.Equals(text, "v1", StringComparison.OrdinalIgnoreCase) || string.Equals(text, "v2", StringComparison.OrdinalIgnoreCase))
            {
                return text[1] - '0';
            }

            result.AddError($"invalid --proxy-protocol \"{text}\": expected v1 or v2");
            return 0;
        },
    };

    public Option<IPEndPoint> Source { get; } = new("--source")
    {
        Description = "The client address the header claims (default: the connection's own)",
        HelpName = "IP:PORT",
        CustomParser = static result =>
        {
            var text = result.Tokens[0].Value;
            if (Address.TryParse(text, out var address, out _) && address.Ip is { } ip)
            {
                return new IPEndPoint(ip, address.Port);
            }

            result.AddError($"invalid --source \"{text}\": expected an IP address and a port 1-65535, as 192.0.2.1:5000 or [2001:db8::1]:5000");
            return null;
        },
    };

    /// <summary>Adds both options to <paramref name="command"/>, and the rule that --source needs --proxy-protocol.</summary>
    public void AddTo(Command command)
    {
        command.Options.Add(Version);
        command.Options.Add(Source);
        command.Validators.Add(result =>
        {
            if (result.GetResult(Source) is not null && result.GetResult(Version) is null)
            {
                result.AddError(SourceWithoutVersion);
            }
        });
    }

    /// <summary>The header to send, or null without --proxy-protocol.</summary>
    public ProxyClaim? Value(ParseResult result) =>
        result.GetResult(Version) is null ? null : new ProxyClaim(result.GetValue(Version), result.GetValue(Source));
}

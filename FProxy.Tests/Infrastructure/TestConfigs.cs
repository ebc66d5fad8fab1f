using System.Net;
using FProxy.Configuration;

namespace FProxy.Tests.Infrastructure;

/// <summary>Builds config snapshots in code, independent of the parser.</summary>
internal static class TestConfigs
{
    public static AppConfig App(string name, int[] ports, params string[] targets) => new()
    {
        Name = name,
        Ports = new EquatableList<int>(ports),
        Targets = new EquatableList<TargetConfig>(targets.Select(Target)),
        Bind = IPAddress.Loopback,
    };

    public static ProxyConfig Config(params AppConfig[] apps) => new() { Apps = new EquatableList<AppConfig>(apps) };

    public static TargetConfig Target(string text)
    {
        var colon = text.LastIndexOf(':');
        var host = text[..colon].Trim('[', ']');
        return new TargetConfig(host, int.Parse(text[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Free loopback ports, distinct from every other port handed out in this test run.</summary>
    public static int[] FreePorts(int count) => TestPorts.Take(count);

}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FProxy.Configuration;

/// <summary>
/// A content hash of a snapshot, equal for equal configs (whatever their formatting, comments or
/// key case), so operators can compare what each node runs. Written from the records, not the
/// file: configs built in code and from etcd hash the same way.
/// </summary>
internal static class ConfigHash
{
    public static string Compute(ProxyConfig config)
    {
        // App by app into the hash: one text of every app would be a large-object-heap string at
        // a thousand apps, and each rollout would push the collector towards a full collection.
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var text = new StringBuilder();
        byte[]? bytes = null;
        foreach (var app in config.Apps)
        {
            text.Clear();
            text.Append("app ").Append(app.Name)
                .Append("|ports ").AppendJoin(',', app.Ports)
                .Append("|targets ").AppendJoin(',', app.Targets.Select(Describe))
                .Append("|bind ").Append(app.Bind)
                .Append("|backlog ").Append(app.Backlog.ToString(CultureInfo.InvariantCulture))
                .Append("|connect ").Append(app.ConnectTimeout.Ticks.ToString(CultureInfo.InvariantCulture))
                .Append("|drain ").Append(app.DrainTimeout.Ticks.ToString(CultureInfo.InvariantCulture))
                .Append("|keepalive ").Append(app.KeepAlive)
                .Append("|strategy ").Append(app.Strategy)
                .Append("|sni ").Append(app.SniTimeout.Ticks.ToString(CultureInfo.InvariantCulture))
                .Append("|check ").Append(app.HealthCheck)
                .Append("|passive ").Append(app.PassiveHealth)
                .Append("|access ").Append(app.AccessLog)
                .Append("|max ").Append(app.MaxConnections?.ToString(CultureInfo.InvariantCulture))
                .Append("|idle ").Append(app.IdleTimeout?.Ticks.ToString(CultureInfo.InvariantCulture))
                .Append("|pp ").Append(app.ProxyProtocol)
                .Append("|accept-pp ").Append(app.AcceptProxyProtocol)
                .Append(';').Append(app.ProxyProtocolTimeout.Ticks.ToString(CultureInfo.InvariantCulture))
                .Append(';').AppendJoin(',', app.TrustedProxies);
            foreach (var rule in app.Rules)
            {
                text.Append("|rule ").AppendJoin(',', rule.Match.SourceCidrs)
                    .Append(';').AppendJoin(',', rule.Match.Ports)
                    .Append(';').AppendJoin(',', rule.Match.Sni)
                    .Append(';').AppendJoin(',', rule.Targets.Select(Describe))
                    .Append(';').Append(rule.Strategy)
                    .Append(';').Append(rule.ProxyProtocol);
            }

            text.Append('\n');
            var line = text.ToString();
            var length = Encoding.UTF8.GetMaxByteCount(line.Length);
            if (bytes is null || bytes.Length < length)
            {
                bytes = new byte[Math.Max(length, 1024)];
            }

            var written = Encoding.UTF8.GetBytes(line, bytes);
            hash.AppendData(bytes, 0, written);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static string Describe(TargetConfig target) => string.Create(CultureInfo.InvariantCulture, $"{target.Key}*{target.Weight}");
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FProxy.Etcd;

/// <summary>
/// Where the etcd cluster is, which prefix holds the apps, how this node identifies itself, and
/// where it keeps its last good copy. Checked by <see cref="Validate"/> before anything connects.
/// </summary>
public sealed class EtcdOptions
{
    /// <summary>The default prefix: apps live under <c>/fproxy/apps/</c>, node reports under <c>/fproxy/nodes/</c>.</summary>
    public const string DefaultPrefix = "/fproxy";

    /// <summary>
    /// The cluster's client URLs (<c>http://10.0.0.1:2379</c>, or <c>https://</c> with TLS), tried
    /// in order: on a lost connection the next one is used.
    /// </summary>
    public IReadOnlyList<Uri> Endpoints { get; set; } = [];

    /// <summary>The key prefix, <see cref="DefaultPrefix"/> by default; normalized to one leading slash and none trailing.</summary>
    public string Prefix { get; set; } = DefaultPrefix;

    /// <summary>The etcd user when the cluster has authentication on; null when it has not.</summary>
    public string? Username { get; set; }

    /// <summary>The etcd user's password.</summary>
    public string? Password { get; set; }

    /// <summary>A PEM file of the CA that signed the cluster's certificates, for <c>https://</c> endpoints; null trusts the system's CAs.</summary>
    public string? CaFile { get; set; }

    /// <summary>This node's name in <c>&lt;prefix&gt;/nodes/</c>; the host name by default.</summary>
    public string NodeId { get; set; } = Environment.MachineName;

    /// <summary>
    /// Where the last applied config is kept (<c>last-good.json</c>), served at the next start
    /// before etcd answers; null keeps no copy.
    /// </summary>
    public string? StateDirectory { get; set; }

    /// <summary>
    /// How often an idle connection is pinged; with <see cref="KeepAliveTimeout"/> it bounds how
    /// long a silent partition goes unnoticed (3 s + 4 s by default: measured 8-10 s from the
    /// moment the network went silent to the connection counted as lost, well within 15 s).
    /// </summary>
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>How long a ping may go unanswered before the connection counts as lost.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(4);

    /// <summary>Longest wait between reconnection attempts (they start at 100 ms and double).</summary>
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The TTL of the lease the node report is attached to: a node that dies disappears within it.</summary>
    public TimeSpan LeaseTtl { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long one request (a read, a write) may take before it counts as failed.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The prefix as used in keys: one leading slash, no trailing one.</summary>
    public string NormalizedPrefix => EtcdLayout.NormalizePrefix(Prefix);

    /// <summary>
    /// Parses a comma-separated list of URLs (<c>FPROXY_ETCD_ENDPOINTS</c>): each must be an
    /// absolute <c>http</c> or <c>https</c> URL with a host, and all must share one scheme.
    /// </summary>
    /// <param name="text">The list, for example <c>http://127.0.0.1:2379,http://127.0.0.1:22379</c>.</param>
    /// <returns>The endpoints, in order.</returns>
    /// <exception cref="FormatException">An entry is not such a URL; the message names it.</exception>
    public static IReadOnlyList<Uri> ParseEndpoints(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var endpoints = new List<Uri>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || string.IsNullOrEmpty(uri.Host))
            {
                throw new FormatException($"\"{part}\" is not an http:// or https:// URL such as http://127.0.0.1:2379");
            }

            if (!string.IsNullOrEmpty(uri.UserInfo))
            {
                throw new FormatException($"\"{part}\": put the user and password in their own settings, not in the URL");
            }

            if (uri.AbsolutePath != "/" || !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment))
            {
                throw new FormatException($"\"{part}\": an etcd endpoint has no path, query or fragment, only scheme, host and port");
            }

            endpoints.Add(uri);
        }

        if (endpoints.Count == 0)
        {
            throw new FormatException("no endpoint given (expected comma-separated URLs such as http://127.0.0.1:2379)");
        }

        if (endpoints.Select(static e => e.Scheme).Distinct(StringComparer.Ordinal).Count() > 1)
        {
            throw new FormatException("endpoints mix http:// and https://; use one scheme for the whole cluster");
        }

        return endpoints;
    }

    /// <summary>
    /// The state directory a service would use: <c>$STATE_DIRECTORY</c> (systemd's, first entry),
    /// else <c>$XDG_STATE_HOME/fproxy</c>, else <c>~/.local/state/fproxy</c>.
    /// </summary>
    /// <param name="getVariable">Reads an environment variable.</param>
    /// <returns>The directory; it may not exist yet.</returns>
    public static string DefaultStateDirectory(Func<string, string?> getVariable)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        if (getVariable("STATE_DIRECTORY") is { Length: > 0 } systemd)
        {
            // systemd lists one directory per StateDirectory= entry, separated by colons.
            return systemd.Split(':')[0];
        }

        if (getVariable("XDG_STATE_HOME") is { Length: > 0 } xdg)
        {
            return Path.Combine(xdg, "fproxy");
        }

        var home = getVariable("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".local", "state", "fproxy");
    }

    /// <summary>Every problem with these options, each naming the option; empty when they are usable.</summary>
    /// <returns>The problems.</returns>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Endpoints is null || Endpoints.Count == 0)
        {
            errors.Add("Endpoints: at least one etcd URL is needed");
        }
        else if (Endpoints.Any(static e => e.Scheme is not ("http" or "https")))
        {
            errors.Add("Endpoints: every URL must be http:// or https://");
        }

        var prefix = Prefix?.Trim('/') ?? string.Empty;
        if (prefix.Length == 0)
        {
            errors.Add("Prefix: must name a key prefix such as /fproxy, not the root");
        }
        else if (prefix.Any(char.IsWhiteSpace))
        {
            errors.Add($"Prefix: \"{Prefix}\" contains whitespace");
        }

        if (string.IsNullOrWhiteSpace(NodeId) || NodeId.Contains('/', StringComparison.Ordinal) || NodeId.Any(char.IsWhiteSpace))
        {
            errors.Add($"NodeId: \"{NodeId}\" must be a non-empty name without '/' or whitespace");
        }

        if ((Username is null) != (Password is null))
        {
            errors.Add("Username and Password: give both or neither");
        }

        if (CaFile is not null && !File.Exists(CaFile))
        {
            errors.Add($"CaFile: \"{CaFile}\" does not exist");
        }
        else if (CaFile is not null && ReadCaProblem(CaFile) is { } problem)
        {
            errors.Add($"CaFile: \"{CaFile}\" {problem}");
        }

        CheckPositive(KeepAliveInterval, nameof(KeepAliveInterval), errors);
        CheckPositive(KeepAliveTimeout, nameof(KeepAliveTimeout), errors);
        CheckPositive(MaxBackoff, nameof(MaxBackoff), errors);
        CheckPositive(RequestTimeout, nameof(RequestTimeout), errors);
        if (LeaseTtl < TimeSpan.FromSeconds(2))
        {
            errors.Add($"LeaseTtl: {LeaseTtl} is too short (at least 2 s, etcd's TTLs are whole seconds)");
        }

        return errors;
    }

    /// <summary>
    /// Why the CA file cannot be used, or null. A file with no certificate in it would otherwise
    /// trust nothing, and every handshake would fail without saying why.
    /// </summary>
    private static string? ReadCaProblem(string path)
    {
        try
        {
            var certificates = new X509Certificate2Collection();
            certificates.ImportFromPemFile(path);
            return certificates.Count == 0 ? "holds no PEM certificate (-----BEGIN CERTIFICATE-----)" : null;
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            return $"cannot be read as PEM certificates: {e.Message}";
        }
    }

    private static void CheckPositive(TimeSpan value, string name, List<string> errors)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{name}: {value} must be positive");
        }
    }
}

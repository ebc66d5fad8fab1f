using Microsoft.Extensions.Logging;

namespace FProxy.Dns;

/// <summary>
/// resolv.conf together with <c>LOCALDOMAIN</c>, <c>RES_OPTIONS</c> and the host name, as a
/// <see cref="ResolverConfig"/>. Read on first use (not in the constructor: that runs on the caller's
/// thread), then again whenever the file's last write time or length changes, as glibc 2.26 and later
/// re-read it, unless its <c>no-reload</c> option is set. Readers get an immutable snapshot.
/// </summary>
/// <remarks>
/// Only the search list and options come from here. The nameservers come from
/// <see cref="DnsOptions.Servers"/> or, when that is empty, from the system (DnsClient reads
/// /etc/resolv.conf on Linux), whatever <see cref="DnsOptions.ResolvConfPath"/> says.
/// </remarks>
internal sealed class ResolvConfFile
{
    private readonly string _path;
    private readonly ResolverEnvironment _environment;
    private readonly ILogger _logger;
    private readonly Lock _reloadLock = new();
    private volatile ResolverConfig? _config;
    private (DateTime LastWrite, long Length)? _stamp;

    /// <param name="path">The file; empty for none (the environment and host name still apply, as without the file).</param>
    /// <param name="environment">Where the variables and host name are read, at every (re)load.</param>
    /// <param name="logger">Logs each configuration that differs from the one before.</param>
    public ResolvConfFile(string path, ResolverEnvironment environment, ILogger logger)
    {
        _path = path;
        _environment = environment;
        _logger = logger;
    }

    /// <summary>The configuration, re-read first if the file changed (one stat per call).</summary>
    public ResolverConfig Current
    {
        get
        {
            ResolverConfig? config = _config;
            return config is not null && (config.NoReload || _path.Length == 0) ? config : Load();
        }
    }

    private ResolverConfig Load()
    {
        (DateTime, long) stamp = (DateTime.MinValue, -1);
        if (_path.Length > 0)
        {
            var info = new FileInfo(_path);
            if (info.Exists)
            {
                stamp = (info.LastWriteTimeUtc, info.Length);
            }
        }

        lock (_reloadLock)
        {
            if (_config is ResolverConfig current && _stamp == stamp)
            {
                return current;
            }

            string? localDomain = _environment.LocalDomain;
            string? resOptions = _environment.ResOptions;
            string? hostName = _environment.HostName;
            ResolverConfig config;
            bool read = false;
            try
            {
                using StreamReader? reader = stamp.Item2 >= 0 ? new StreamReader(_path) : null;
                config = ResolvConfParser.Parse(reader, localDomain, resOptions, hostName);
                read = reader is not null;
                _stamp = stamp;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Keep what was read before (at first, what applies without the file) and try again on
                // the next lookup: the stamp is not recorded.
                DnsLog.ResolvConfUnreadable(_logger, _path, e);
                config = _config ?? ResolvConfParser.Parse(null, localDomain, resOptions, hostName);
            }

            if (_config?.ToString() != config.ToString())
            {
                string sources = string.Join(", ", new[]
                {
                    read ? _path : _path.Length > 0 ? $"no {_path}" : "no resolv.conf",
                    localDomain is null ? null : $"{ResolverEnvironment.LocalDomainVariable}=\"{localDomain}\"",
                    resOptions is null ? null : $"{ResolverEnvironment.ResOptionsVariable}=\"{resOptions}\"",
                }.OfType<string>());
                DnsLog.SearchConfigured(_logger, config.ToString(), sources);
            }

            _config = config;
            return config;
        }
    }
}

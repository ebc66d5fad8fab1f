using Microsoft.Extensions.Logging;

namespace FProxy.Host;

/// <summary>
/// The host's environment (FPROXY_* variables), read and validated once at start: an invalid
/// value stops the process with exit code 2 and a message naming the variable.
/// </summary>
internal sealed record HostSettings(string ConfigPath, LogLevel LogLevel, string? DnsServers)
{
    public const string ConfigPathVariable = "FPROXY_CONFIG_PATH";
    public const string LogLevelVariable = "FPROXY_LOG_LEVEL";
    public const string DnsServersVariable = "FPROXY_DNS_SERVERS";

    /// <summary>Reads the settings; throws <see cref="ArgumentException"/> naming the bad variable.</summary>
    public static HostSettings FromEnvironment(Func<string, string?> getVariable)
    {
        var path = getVariable(ConfigPathVariable);
        if (path is not null && string.IsNullOrWhiteSpace(path))
        {
            throw new ArgumentException($"{ConfigPathVariable} is set but empty");
        }

        var level = ParseLogLevel(getVariable(LogLevelVariable));
        var dns = getVariable(DnsServersVariable);
        return new HostSettings(Path.GetFullPath(path ?? "config.json"), level, string.IsNullOrWhiteSpace(dns) ? null : dns);
    }

    private static LogLevel ParseLogLevel(string? value) => value?.Trim().ToUpperInvariant() switch
    {
        null or "" => LogLevel.Information,
        "TRACE" => LogLevel.Trace,
        "DEBUG" => LogLevel.Debug,
        "INFORMATION" or "INFO" => LogLevel.Information,
        "WARNING" or "WARN" => LogLevel.Warning,
        "ERROR" => LogLevel.Error,
        "CRITICAL" => LogLevel.Critical,
        _ => throw new ArgumentException(
            $"{LogLevelVariable}: \"{value}\" is not a log level (expected trace, debug, information, warning, error or critical)"),
    };
}

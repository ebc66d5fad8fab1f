namespace FProxy.Configuration;

/// <summary>Parses and validates configuration JSON into a <see cref="ProxyConfig"/>.</summary>
public static class ConfigParser
{
    /// <summary>
    /// Parses <paramref name="json"/> and validates the whole snapshot, collecting every error.
    /// </summary>
    /// <param name="json">The configuration text.</param>
    /// <param name="source">Where it came from (a file path), for messages.</param>
    /// <returns>The validated snapshot.</returns>
    /// <exception cref="ConfigException">The text is not valid JSON or the configuration is invalid.</exception>
    public static ProxyConfig Parse(string json, string source = "config")
    {
        ArgumentNullException.ThrowIfNull(json);
        throw new NotImplementedException(source);
    }
}

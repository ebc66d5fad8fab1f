namespace FProxy.Configuration;

/// <summary>Reads a configuration file once.</summary>
public static class ConfigFile
{
    /// <summary>Reads and validates the configuration file at <paramref name="path"/>.</summary>
    /// <param name="path">The file (UTF-8 JSON, see docs/configuration.md).</param>
    /// <param name="schema">
    /// The strategy and probe names the config may use; <see cref="ConfigSchema.Default"/> (the
    /// built-ins) when null.
    /// </param>
    /// <returns>The validated snapshot.</returns>
    /// <exception cref="ConfigException">
    /// The file is missing or unreadable (for example <c>config file "/x/config.json" not found</c>),
    /// or its content is invalid; <see cref="ConfigException.Errors"/> lists every problem.
    /// </exception>
    public static ProxyConfig Load(string path, ConfigSchema? schema = null) => ConfigParser.Parse(Read(path), path, schema);

    /// <summary>The file's text, or a <see cref="ConfigException"/> with a clear message and the I/O error as its inner exception.</summary>
    internal static string Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ConfigException($"config file \"{path}\" not found", e);
        }
        catch (UnauthorizedAccessException e) when (Directory.Exists(path))
        {
            throw new ConfigException($"config file \"{path}\" is a directory", e);
        }
        catch (UnauthorizedAccessException e)
        {
            throw new ConfigException($"config file \"{path}\" cannot be read: permission denied", e);
        }
        catch (IOException e)
        {
            throw new ConfigException($"config file \"{path}\" cannot be read: {e.Message}", e);
        }
    }

    /// <summary>Whether <paramref name="exception"/> from <see cref="Read"/> means the file does not exist.</summary>
    internal static bool IsNotFound(ConfigException exception) =>
        exception.InnerException is FileNotFoundException or DirectoryNotFoundException;
}

using Microsoft.Extensions.Logging;

namespace FProxy.Configuration;

/// <summary>Log messages of the configuration part. EventIds 1000-1099.</summary>
internal static partial class ConfigLog
{
    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "Loaded config {Path}: {Apps}")]
    public static partial void Loaded(ILogger logger, string path, string apps);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Config {Path} changed: {Apps}")]
    public static partial void Reloaded(ILogger logger, string path, string apps);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Config {Source}{Part} is invalid ({Errors}); keeping the last good config:{Problems}")]
    public static partial void Rejected(ILogger logger, string source, string part, string errors, string problems);

    /// <summary>Logs <paramref name="error"/> as event 1002: its source, its part when it has one, and every problem on a line of its own.</summary>
    public static void Rejected(ILogger logger, ConfigException error) =>
        Rejected(logger, error.Source ?? "config", PartSuffix(error), Diagnostics.Counted.Of(error.Errors.Count, "error"),
            string.Concat(error.Errors.Select(static e => Environment.NewLine + "  " + e)));

    /// <summary>" (part)" for a rejected part of a source with several, else empty.</summary>
    public static string PartSuffix(ConfigException error) => error.Part is null ? string.Empty : $" ({error.Part})";

    [LoggerMessage(EventId = 1003, Level = LogLevel.Debug, Message = "Config {Path} was touched but its content is unchanged; nothing to apply")]
    public static partial void Unchanged(ILogger logger, string path);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Config {Path} is missing (a save or swap in progress?); retrying")]
    public static partial void Missing(ILogger logger, string path);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Warning, Message = "Config {Path} could not be read; retrying. {Reason}")]
    public static partial void ReadFailed(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Warning, Message = "Watching directory {Directory} failed; re-reading the config and relying on polling")]
    public static partial void WatcherFailed(ILogger logger, string directory, Exception exception);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Debug, Message = "Watching config {Path} (directory events, identity poll every {PollInterval})")]
    public static partial void WatchStarted(ILogger logger, string path, string pollInterval);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Debug, Message = "Stopped watching config {Path}")]
    public static partial void WatchStopped(ILogger logger, string path);

    [LoggerMessage(EventId = 1010, Level = LogLevel.Information, Message = "Config {Path} read again on request: unchanged, nothing to apply")]
    public static partial void ReloadUnchanged(ILogger logger, string path);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Debug, Message = "Config {Path} was read again with the same invalid content; already reported")]
    public static partial void StillInvalid(ILogger logger, string path);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Debug, Message = "Config {Path} changed while it was read (a write in progress): reading it again once it is still")]
    public static partial void ReadWhileWritten(ILogger logger, string path);
}

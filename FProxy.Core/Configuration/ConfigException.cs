namespace FProxy.Configuration;

/// <summary>
/// A configuration could not be loaded or is invalid. <see cref="Errors"/> lists every problem,
/// each naming its place (for example <c>Apps[1] "six-thousand": port 5001 is already used by app "five-thousand"</c>).
/// </summary>
public sealed class ConfigException : Exception
{
    /// <summary>Creates the exception from a list of problems.</summary>
    /// <param name="source">Where the configuration came from (a file path), used as the message prefix.</param>
    /// <param name="errors">Every problem found, at least one.</param>
    public ConfigException(string source, IReadOnlyList<string> errors)
        : base(FormatMessage(source, errors))
    {
        Source = source;
        Errors = errors;
    }

    /// <summary>Creates the exception for one part of a source with several (an etcd key, a file of a directory).</summary>
    /// <param name="source">Where the configuration came from, used as the message prefix.</param>
    /// <param name="errors">Every problem found, at least one.</param>
    /// <param name="part">Which part was invalid; the rest of the source may still apply.</param>
    public ConfigException(string source, IReadOnlyList<string> errors, string? part)
        : this(source, errors)
    {
        Part = part;
    }

    /// <summary>Creates the exception from a single message.</summary>
    public ConfigException(string message)
        : this("config", [message])
    {
    }

    /// <summary>Creates the exception from a single message and its cause.</summary>
    public ConfigException(string message, Exception innerException)
        : base(message, innerException)
    {
        Source = "config";
        Errors = [message];
    }

    /// <summary>Creates the exception (for serializers and analyzers).</summary>
    public ConfigException()
        : this("config is invalid")
    {
    }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<string> Errors { get; }

    /// <summary>Which part of a source with several was invalid (an etcd key); null for the whole config.</summary>
    public string? Part { get; }

    private static string FormatMessage(string source, IReadOnlyList<string> errors) =>
        errors.Count == 1
            ? $"{source}: {errors[0]}"
            : $"{source}: {errors.Count} errors:{Environment.NewLine}  " + string.Join(Environment.NewLine + "  ", errors);
}

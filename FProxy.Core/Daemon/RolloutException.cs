namespace FProxy.Daemon;

/// <summary>
/// A valid config could not be rolled out (a strategy or probe factory threw) and nothing was
/// changed: the running config stays in force whole. <see cref="Exception.Message"/> names the
/// app and the plug-in.
/// </summary>
public sealed class RolloutException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RolloutException()
    {
    }

    /// <summary>Creates the exception with its message.</summary>
    /// <param name="message">What failed, naming the app.</param>
    public RolloutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with its message and cause.</summary>
    /// <param name="message">What failed, naming the app.</param>
    /// <param name="innerException">What the plug-in threw.</param>
    public RolloutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

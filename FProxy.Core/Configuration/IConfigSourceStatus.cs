namespace FProxy.Configuration;

/// <summary>
/// A config source that can say where it stands: connected or not, the revision in force, the last
/// sync. The host shows it on /apps; a source without it is shown by its type only.
/// </summary>
public interface IConfigSourceStatus
{
    /// <summary>The source's state now; cheap, called on every status request.</summary>
    ConfigSourceStatus GetSourceStatus();
}

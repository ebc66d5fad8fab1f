using System.Net.Sockets;

namespace FProxy.Dns;

/// <summary>
/// Where the resolver reads the environment variables glibc's resolver honours (<c>LOCALDOMAIN</c>,
/// <c>RES_OPTIONS</c>) and the host name: the process itself (<see cref="Process"/>), or fixed values,
/// so tests need not change the process environment other tests see.
/// </summary>
internal sealed class ResolverEnvironment
{
    /// <summary>Overrides resolv.conf's search list: blank-separated domains.</summary>
    public const string LocalDomainVariable = "LOCALDOMAIN";

    /// <summary>Options applied after resolv.conf's <c>options</c> lines, e.g. <c>ndots:5</c>.</summary>
    public const string ResOptionsVariable = "RES_OPTIONS";

    private readonly Func<string, string?> _getVariable;
    private readonly Func<string?> _getHostName;

    public ResolverEnvironment(Func<string, string?> getVariable, Func<string?> getHostName)
    {
        ArgumentNullException.ThrowIfNull(getVariable);
        ArgumentNullException.ThrowIfNull(getHostName);
        _getVariable = getVariable;
        _getHostName = getHostName;
    }

    /// <summary>The process's environment variables and host name, read each time they are asked for.</summary>
    public static ResolverEnvironment Process { get; } = new(Environment.GetEnvironmentVariable, ReadHostName);

    /// <summary>The value of <c>LOCALDOMAIN</c>, or null when it is not set (set but empty is not the same).</summary>
    public string? LocalDomain => _getVariable(LocalDomainVariable);

    /// <summary>The value of <c>RES_OPTIONS</c>, or null when it is not set.</summary>
    public string? ResOptions => _getVariable(ResOptionsVariable);

    /// <summary>The host name as gethostname(2) gives it, or null if it cannot be read.</summary>
    public string? HostName => _getHostName();

    /// <summary>An environment where only <paramref name="variables"/> are set and the host name is <paramref name="hostName"/>.</summary>
    public static ResolverEnvironment Of(IReadOnlyDictionary<string, string> variables, string? hostName = null)
    {
        ArgumentNullException.ThrowIfNull(variables);
        return new ResolverEnvironment(name => variables.GetValueOrDefault(name), () => hostName);
    }

    private static string? ReadHostName()
    {
        try
        {
            // The full name (Environment.MachineName stops at the first dot, and the domain after it is
            // what glibc falls back to as the search list).
            return System.Net.Dns.GetHostName();
        }
        catch (SocketException)
        {
            return null;
        }
    }
}

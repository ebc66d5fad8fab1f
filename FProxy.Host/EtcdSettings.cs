using FProxy.Etcd;

namespace FProxy.Host;

/// <summary>
/// The FPROXY_ETCD_* variables, FPROXY_NODE_ID and FPROXY_STATE_DIR: set FPROXY_ETCD_ENDPOINTS and
/// the apps come from etcd instead of the config file. Each invalid value is an ArgumentException naming its variable.
/// </summary>
internal static class EtcdSettings
{
    public const string EndpointsVariable = "FPROXY_ETCD_ENDPOINTS";
    public const string PrefixVariable = "FPROXY_ETCD_PREFIX";
    public const string UsernameVariable = "FPROXY_ETCD_USERNAME";
    public const string PasswordVariable = "FPROXY_ETCD_PASSWORD";
    public const string CaFileVariable = "FPROXY_ETCD_CA_FILE";
    public const string NodeIdVariable = "FPROXY_NODE_ID";
    public const string StateDirectoryVariable = "FPROXY_STATE_DIR";

    /// <summary>The etcd options, or null when FPROXY_ETCD_ENDPOINTS is unset (the file source).</summary>
    public static EtcdOptions? FromEnvironment(Func<string, string?> getVariable)
    {
        var endpoints = getVariable(EndpointsVariable);
        if (endpoints is null)
        {
            return null;
        }

        var options = new EtcdOptions();
        try
        {
            options.Endpoints = EtcdOptions.ParseEndpoints(endpoints);
        }
        catch (FormatException e)
        {
            throw new ArgumentException($"{EndpointsVariable}: {e.Message}", e);
        }

        if (getVariable(PrefixVariable) is { } prefix)
        {
            options.Prefix = prefix;
        }

        options.Username = Blank(getVariable(UsernameVariable));

        // Empty counts as unset, as for the user: an env file with both lines empty means no
        // auth, not "a user is missing". Spaces are kept, they may be a password.
        options.Password = getVariable(PasswordVariable) is { Length: > 0 } password ? password : null;
        options.CaFile = Blank(getVariable(CaFileVariable));
        if (Blank(getVariable(NodeIdVariable)) is { } node)
        {
            options.NodeId = node.Trim();
        }

        options.StateDirectory = Blank(getVariable(StateDirectoryVariable)) is { } state
            ? Path.GetFullPath(state)
            : EtcdOptions.DefaultStateDirectory(getVariable);

        foreach (var problem in options.Validate())
        {
            throw new ArgumentException(Name(problem) + ": " + problem[(problem.IndexOf(':', StringComparison.Ordinal) + 2)..]);
        }

        return options;
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;

    /// <summary>The variable behind an option named in <see cref="EtcdOptions.Validate"/>'s message.</summary>
    private static string Name(string problem) => problem.Split(':')[0] switch
    {
        "Endpoints" => EndpointsVariable,
        "Prefix" => PrefixVariable,
        "NodeId" => NodeIdVariable,
        "CaFile" => CaFileVariable,
        "Username and Password" => $"{UsernameVariable} and {PasswordVariable}",
        var other => other,
    };
}

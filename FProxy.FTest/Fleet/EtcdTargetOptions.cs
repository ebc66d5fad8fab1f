using System.CommandLine;
using FProxy.Etcd;
using FProxy.FTest.Net;

namespace FProxy.FTest.Fleet;

/// <summary>
/// Where the fleet's etcd is, for every <c>ftest fleet</c> command: <c>--etcd</c>, <c>--prefix</c>,
/// <c>--user</c>, <c>--password</c> and <c>--ca-file</c>, each falling back to the environment
/// variable the nodes read (<c>FPROXY_ETCD_*</c>), so a rollout script and the fleet share one setup.
/// </summary>
internal sealed class EtcdTargetOptions
{
    public const string EndpointsVariable = "FPROXY_ETCD_ENDPOINTS";
    public const string PrefixVariable = "FPROXY_ETCD_PREFIX";
    public const string UsernameVariable = "FPROXY_ETCD_USERNAME";
    public const string PasswordVariable = "FPROXY_ETCD_PASSWORD";
    public const string CaFileVariable = "FPROXY_ETCD_CA_FILE";

    private readonly Option<string> _endpoints = new("--etcd")
    {
        Description = $"etcd client URLs, comma-separated (http:// or https://) [default: ${EndpointsVariable}]",
        HelpName = "URL[,URL]",
    };

    private readonly Option<string> _prefix = new("--prefix")
    {
        Description = $"Key prefix of the fleet: apps under PREFIX/apps/, node reports under PREFIX/nodes/ [default: ${PrefixVariable}, else {EtcdOptions.DefaultPrefix}]",
        HelpName = "PREFIX",
    };

    private readonly Option<string> _username = new("--user")
    {
        Description = $"etcd user, when the cluster has authentication on [default: ${UsernameVariable}]",
        HelpName = "USER",
    };

    private readonly Option<string> _password = new("--password")
    {
        // A command line is visible to every user of the machine (ps); the variable is not.
        Description = $"The etcd user's password; prefer ${PasswordVariable}, which other users cannot see in ps [default: ${PasswordVariable}]",
        HelpName = "PASSWORD",
    };

    private readonly Option<string> _caFile = new("--ca-file")
    {
        Description = $"PEM file of the CA that signed the cluster's certificates, for https:// [default: ${CaFileVariable}, else the system's CAs]",
        HelpName = "FILE",
    };

    /// <summary>The options, to add to a command.</summary>
    public IEnumerable<Option> All => [_endpoints, _prefix, _username, _password, _caFile];

    /// <summary>
    /// The etcd options: each option given on the command line, else its variable. Throws a
    /// usage error when neither names an endpoint, and a one-line error for a bad value.
    /// </summary>
    public EtcdOptions Resolve(ParseResult result, Func<string, string?> getVariable)
    {
        var (endpointsText, endpointsFrom) = Pick(result, _endpoints, getVariable, EndpointsVariable);
        if (string.IsNullOrWhiteSpace(endpointsText))
        {
            throw new ToolException($"no etcd endpoint: give --etcd URL[,URL] or set {EndpointsVariable}", ExitCodes.Usage);
        }

        IReadOnlyList<Uri> endpoints;
        try
        {
            endpoints = EtcdOptions.ParseEndpoints(endpointsText);
        }
        catch (FormatException e)
        {
            throw new ToolException($"invalid {endpointsFrom}: {e.Message}");
        }

        var (prefix, prefixFrom) = Pick(result, _prefix, getVariable, PrefixVariable);
        prefix = string.IsNullOrWhiteSpace(prefix) ? EtcdOptions.DefaultPrefix : prefix;
        if (prefix.Trim().Trim('/').Length == 0 || prefix.Trim().Trim('/').Any(char.IsWhiteSpace))
        {
            throw new ToolException($"invalid {prefixFrom} \"{prefix}\": expected a key prefix such as {EtcdOptions.DefaultPrefix}, not the root and without spaces");
        }

        var (username, _) = Pick(result, _username, getVariable, UsernameVariable);
        var (password, _) = Pick(result, _password, getVariable, PasswordVariable);
        username = string.IsNullOrEmpty(username) ? null : username;
        password = string.IsNullOrEmpty(password) ? null : password;
        if ((username is null) != (password is null))
        {
            throw new ToolException(
                username is null
                    ? $"a password without a user: give --user or set {UsernameVariable}"
                    : $"user \"{username}\" without a password: give --password or set {PasswordVariable}",
                ExitCodes.Usage);
        }

        var (caFile, caFileFrom) = Pick(result, _caFile, getVariable, CaFileVariable);
        caFile = string.IsNullOrEmpty(caFile) ? null : caFile;
        if (caFile is not null && !File.Exists(caFile))
        {
            throw new ToolException($"invalid {caFileFrom} \"{caFile}\": no such file");
        }

        var options = new EtcdOptions
        {
            Endpoints = endpoints,
            Prefix = prefix,
            Username = username,
            Password = password,
            CaFile = caFile,
            // Not a node: the id only has to pass validation (the host name might not).
            NodeId = "ftest",
        };

        // Everything Validate checks is checked above with the option's own name; this is the backstop.
        if (options.Validate() is { Count: > 0 } errors)
        {
            throw new ToolException("invalid etcd options: " + string.Join("; ", errors));
        }

        return options;
    }

    /// <summary>The option's value when given, else the variable's; and which of the two it was, for messages.</summary>
    private static (string? Value, string From) Pick(ParseResult result, Option<string> option, Func<string, string?> getVariable, string variable) =>
        result.GetResult(option) is not null
            ? (result.GetValue(option), option.Name)
            : (getVariable(variable), variable);
}

using System.CommandLine;
using FProxy.FTest.Cli;

namespace FProxy.FTest.Commands;

/// <summary>
/// <c>ftest fleet</c>: the rollout of a config to FProxy nodes that read it from etcd. Push it,
/// wait until every node has applied it, check them:
/// <c>ftest fleet wait $(ftest fleet push -q config.json) &amp;&amp; ftest fleet status</c>.
/// </summary>
internal static class FleetCommand
{
    public static Command Build(ToolConsole console) => new(
        "fleet",
        "Roll a config out to FProxy nodes that read it from etcd: push it, wait until every node has applied it, check them. "
        + "Each command reads --etcd, --prefix, --user, --password and --ca-file, or else FPROXY_ETCD_ENDPOINTS, FPROXY_ETCD_PREFIX, "
        + "FPROXY_ETCD_USERNAME, FPROXY_ETCD_PASSWORD and FPROXY_ETCD_CA_FILE, as the nodes do. "
        + "A rollout: rev=$(ftest fleet push -q config.json) && ftest fleet wait $rev --timeout 1m && ftest fleet status")
    {
        FleetPushCommand.Build(console),
        FleetStatusCommand.Build(console),
        FleetWaitCommand.Build(console),
    };
}

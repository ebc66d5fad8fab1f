using System.CommandLine;
using FProxy.FTest.Cli;
using FProxy.FTest.Fleet;
using FProxy.FTest.Net;

namespace FProxy.FTest.Commands;

/// <summary>
/// <c>ftest fleet status</c>: every live node's report (applied revision, lag behind the apps'
/// last change, readiness, rejected apps), read in one transaction with the apps' revision.
/// </summary>
internal sealed class FleetStatusCommand(ToolConsole console)
{
    public static Command Build(ToolConsole console)
    {
        var etcd = new EtcdTargetOptions();
        var json = new Option<bool>("--json") { Description = "Print the status as JSON" };
        var command = new Command(
            "status",
            "Show each live node under PREFIX/nodes/: the apps revision it has applied, its lag behind the last change under PREFIX/apps/, "
            + "whether it is ready, its apps, config version and hash, and the apps it rejected with why")
        {
            json,
        };
        foreach (var option in etcd.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, ct) => FTestCli.GuardAsync(console, () => new FleetStatusCommand(console).RunAsync(
            new FleetStatusOptions(etcd.Resolve(result, Environment.GetEnvironmentVariable), result.GetValue(json)),
            ct)));
        return command;
    }

    public async Task<int> RunAsync(FleetStatusOptions options, CancellationToken ct)
    {
        using var connection = FleetStore.Connect(options.Etcd);
        var store = new FleetStore(connection);
        var status = await store.ReadStatusAsync(deadline: null, ct).ConfigureAwait(false);
        console.Out.Write(options.Json
            ? FleetStatusView.Json(status, store.Endpoints, store.Prefix) + Environment.NewLine
            : FleetStatusView.Text(status, store.Endpoints, store.Prefix));
        return ExitCodes.Success;
    }
}

using System.CommandLine;
using FProxy.FTest.Cli;
using FProxy.FTest.Fleet;
using FProxy.FTest.Net;
using FProxy.Diagnostics;

namespace FProxy.FTest.Commands;

/// <summary>
/// <c>ftest fleet push</c>: makes etcd hold exactly a config file's apps, in one transaction, and
/// prints its revision for <c>ftest fleet wait</c>. Apps whose value is already stored are not
/// written, so the nodes reload only what changed.
/// </summary>
internal sealed class FleetPushCommand(ToolConsole console)
{
    public static Command Build(ToolConsole console)
    {
        var etcd = new EtcdTargetOptions();
        var file = new Argument<string>("FILE") { Description = "The config file (as fproxy reads it) whose apps the fleet should serve" };
        var dryRun = new Option<bool>("--dry-run", "-n") { Description = "Print what would change (+ added, ~ changed, - deleted) and write nothing" };
        var quiet = new Option<bool>("--quiet", "-q") { Description = "Print only the revision, for scripts: ftest fleet wait $(ftest fleet push -q config.json)" };
        var command = new Command(
            "push",
            "Validate FILE, then write each of its apps to PREFIX/apps/NAME and delete the stored apps FILE no longer has, all in one transaction. "
            + "Prints one line per change (+ added, ~ changed, - deleted) and last \"revision N\": the transaction's revision, or the last change's when nothing changed")
        {
            file, dryRun, quiet,
        };
        foreach (var option in etcd.All)
        {
            command.Options.Add(option);
        }

        command.SetAction((result, ct) => FTestCli.GuardAsync(console, () => new FleetPushCommand(console).RunAsync(
            new FleetPushOptions(
                etcd.Resolve(result, Environment.GetEnvironmentVariable),
                result.GetRequiredValue(file),
                result.GetValue(dryRun),
                result.GetValue(quiet)),
            ct)));
        return command;
    }

    public async Task<int> RunAsync(FleetPushOptions options, CancellationToken ct)
    {
        // Validated before anything connects: an invalid file never reaches the fleet.
        var apps = AppFile.Read(options.File);
        using var connection = FleetStore.Connect(options.Etcd);
        var store = new FleetStore(connection);
        var plan = PushPlan.Create(store.Prefix, apps, await store.ReadAppsAsync(ct).ConfigureAwait(false));
        var output = console.Out;
        if (!options.Quiet || options.DryRun)
        {
            foreach (var change in plan.Changes)
            {
                output.WriteLine(change.ToString());
            }
        }

        if (options.DryRun)
        {
            if (!options.Quiet)
            {
                output.WriteLine($"dry run: {plan.Summary()}; nothing written");
            }

            return ExitCodes.Success;
        }

        // Nothing to write is no transaction at all: the store's revision moves only when an app does.
        var revision = plan.Changes.Count == 0
            ? plan.Stored.LastChange
            : await store.CommitAsync(plan, ct).ConfigureAwait(false);
        if (!options.Quiet)
        {
            output.WriteLine(plan.Changes.Count == 0
                ? $"no changes: {Counted.Of(apps.Count, "app")} up to date"
                : $"pushed {Counted.Of(apps.Count, "app")}: {plan.Summary()}");
            output.Write("revision ");
        }

        output.WriteLine(revision);
        return ExitCodes.Success;
    }
}

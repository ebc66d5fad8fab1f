using FProxy.FTest.Cli;

return await FTestCli.RunAsync(args, ToolConsole.System(), CancellationToken.None).ConfigureAwait(false);

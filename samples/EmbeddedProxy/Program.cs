// A host of your own with FProxy in it: a custom balancing strategy and a custom config source,
// registered by name through AddFProxy. Run it with the apps it should serve on the command line:
//
//   dotnet run -- --Sample:Port=7001 --Sample:Targets:0=127.0.0.1:9001 --Sample:Targets:1=127.0.0.1:9002
using EmbeddedProxy;
using FProxy.Hosting;
using Microsoft.Extensions.Hosting;

var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddFProxy(builder.Configuration.GetSection("FProxy"))
    .AddStrategy("PreferFirst", _ => new PreferFirstStrategy())
    .UseConfigSource(_ => new CommandLineConfigSource(builder.Configuration.GetSection("Sample")));
await builder.Build().RunAsync();

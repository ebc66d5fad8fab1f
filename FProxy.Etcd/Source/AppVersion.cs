using FProxy.Configuration;

namespace FProxy.Etcd.Source;

/// <summary>A valid app and the JSON it was read from (what the last good copy on disk keeps).</summary>
internal sealed record AppVersion(AppConfig App, string Json);

using FProxy.Configuration;

namespace FProxy.Etcd.Source;

/// <summary>What an <see cref="AppTable"/> serves: the config, the JSON of each app in it (for the copy on disk), and each rejected key's problems.</summary>
internal sealed record TableSnapshot(ProxyConfig Config, IReadOnlyList<AppVersion> Apps, IReadOnlyDictionary<string, KeyErrors> Errors);

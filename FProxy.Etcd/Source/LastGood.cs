using FProxy.Configuration;

namespace FProxy.Etcd.Source;

/// <summary>The copy on disk: where, from which etcd revision, the config, and each app with its JSON.</summary>
internal sealed record LastGood(string Path, long Revision, ProxyConfig Config, IReadOnlyList<AppVersion> Apps);

using FProxy.Configuration;

namespace FProxy.Etcd;

/// <summary>The outcome of <see cref="EtcdConfigCheck.RunAsync"/>.</summary>
/// <param name="Revision">The etcd revision read.</param>
/// <param name="Keys">How many keys are stored under <c>apps/</c>.</param>
/// <param name="Config">What a node would serve (the valid apps).</param>
/// <param name="Errors">Each bad key and its problems; empty when every key applies.</param>
public sealed record EtcdCheckResult(long Revision, int Keys, ProxyConfig Config, IReadOnlyDictionary<string, IReadOnlyList<string>> Errors);

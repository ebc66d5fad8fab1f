using FProxy.Etcd;

namespace FProxy.FTest.Commands;

/// <summary>What <c>ftest fleet push</c> was asked to do.</summary>
internal sealed record FleetPushOptions(EtcdOptions Etcd, string File, bool DryRun, bool Quiet);

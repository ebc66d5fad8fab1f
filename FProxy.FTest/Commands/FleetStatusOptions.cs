using FProxy.Etcd;

namespace FProxy.FTest.Commands;

/// <summary>What <c>ftest fleet status</c> was asked to do.</summary>
internal sealed record FleetStatusOptions(EtcdOptions Etcd, bool Json);

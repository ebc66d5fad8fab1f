using FProxy.Etcd;

namespace FProxy.FTest.Commands;

/// <summary>What <c>ftest fleet wait</c> was asked to do.</summary>
internal sealed record FleetWaitOptions(EtcdOptions Etcd, long Revision, TimeSpan Timeout, TimeSpan Interval);

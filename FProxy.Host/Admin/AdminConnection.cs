namespace FProxy.Host.Admin;

/// <summary>
/// One connection to the admin endpoint as <see cref="AdminConnectionLimit"/> accounts for it:
/// idle (waiting for a request, or between requests) or busy with one. Its state is the limit's,
/// changed only under the limit's lock.
/// </summary>
internal sealed class AdminConnection(Action abort)
{
    /// <summary>Its place in the limit's idle list while it has no request in progress.</summary>
    internal LinkedListNode<AdminConnection>? IdleNode { get; set; }

    /// <summary>Requests in progress (one at most over HTTP/1.1).</summary>
    internal int Requests { get; set; }

    /// <summary>Closed to make room, or gone: no longer counted.</summary>
    internal bool Released { get; set; }

    /// <summary>Closes the connection now (Kestrel's ConnectionContext.Abort).</summary>
    internal void Abort() => abort();
}

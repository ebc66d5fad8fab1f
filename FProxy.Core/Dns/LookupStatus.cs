namespace FProxy.Dns;

/// <summary>How the lookup of one name ended; decides whether a search goes on to the next name (see <see cref="NameSearch"/>).</summary>
internal enum LookupStatus
{
    /// <summary>At least one address.</summary>
    Found,

    /// <summary>NXDOMAIN: the name does not exist.</summary>
    NotFound,

    /// <summary>The name exists but has no A or AAAA record (NOERROR with no answer, "NODATA").</summary>
    NoAddress,

    /// <summary>SERVFAIL: the nameserver could not answer for this name.</summary>
    ServerFailure,

    /// <summary>No usable answer at all: a timeout, REFUSED, a transport error, or no nameserver.</summary>
    Failed,
}

using FProxy.Configuration;
using FProxy.Diagnostics;

namespace FProxy.Balancing;

/// <summary>
/// One target of one app at run time: its config, its active connections and its health. Lives
/// as long as the target stays in the app's config, across reloads, so health and counts
/// survive them. Strategies read it through a <see cref="TargetSet"/>.
/// </summary>
public sealed class TargetState
{
    private TargetConfig _config;
    private int _weight;
    private int _active;
    private volatile bool _available = true;
    private volatile bool _ejected;
    private IConnectOutcomes? _outcomes;

    // Striped, and objects of their own: every send adds to one, so a shared field would pull the
    // cache line holding _active and _weight away from the cores that pick targets.
    private readonly StripedCounter _bytesUp = new();
    private readonly StripedCounter _bytesDown = new();

    /// <summary>Creates the state of a target that is healthy, with no connections (custom strategies' tests too).</summary>
    /// <param name="config">The target.</param>
    public TargetState(TargetConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        _config = config;
        _weight = config.Weight;
        Literal = config.EndPoint is { } endPoint ? [endPoint.Address] : null;
    }

    /// <summary>The target as configured now (a reload may change its weight).</summary>
    public TargetConfig Config
    {
        get => Volatile.Read(ref _config);
        internal set
        {
            Volatile.Write(ref _weight, value.Weight);
            Volatile.Write(ref _config, value);
        }
    }

    /// <summary>The address of a target named by an IP literal, as the transport takes it; null for a host name.</summary>
    /// <remarks>Made once: a target's key (its host and port) never changes, only its weight.</remarks>
    internal System.Net.IPAddress[]? Literal { get; }

    /// <summary>The target's weight, 1 or more.</summary>
    /// <remarks>A field of its own: LeastConnections reads it for every target on every pick.</remarks>
    public int Weight => Volatile.Read(ref _weight);

    /// <summary>Connections to this target open now, or being opened, across all ports of the app.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    /// <summary>Bytes forwarded from clients to this target, across all its connections so far.</summary>
    public long BytesClientToTarget => _bytesUp.Read();

    /// <summary>Bytes forwarded from this target to clients.</summary>
    public long BytesTargetToClient => _bytesDown.Read();

    /// <summary>Whether the target takes new connections: not failed by active checks, not ejected.</summary>
    public bool IsAvailable => _available;

    /// <summary>Whether passive health has ejected the target for now (status).</summary>
    internal bool IsEjected => _ejected;

    /// <summary>Told of each connect to the target (its passive health); null when nothing listens.</summary>
    internal IConnectOutcomes? Outcomes
    {
        get => Volatile.Read(ref _outcomes);
        set => Volatile.Write(ref _outcomes, value);
    }

    /// <inheritdoc/>
    public override string ToString() => Config.ToString();

    /// <summary>The verdict of the target's health, set by whoever judges it (FProxy.Health), read by the pools.</summary>
    internal void SetHealth(bool available, bool ejected)
    {
        _ejected = ejected;
        _available = available;
    }

    /// <summary>A connection to the target is being opened (and counts until <see cref="Exit"/>).</summary>
    internal void Enter() => Interlocked.Increment(ref _active);

    internal void Exit() => Interlocked.Decrement(ref _active);

    /// <summary>Counts bytes forwarded, per send, so a long-lived connection shows its traffic as it goes.</summary>
    internal void AddBytes(bool toTarget, long count) => (toTarget ? _bytesUp : _bytesDown).Add(count);
}

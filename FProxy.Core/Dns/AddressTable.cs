using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Logging;

namespace FProxy.Dns;

/// <summary>
/// FProxy's own table of addresses for target host names. Names are resolved when a config is applied
/// (<see cref="SetNames"/>) and refreshed in the background before their TTLs run out, so the data
/// path only reads the table (<see cref="GetAsync"/>). A failed refresh keeps the last good addresses.
/// </summary>
/// <remarks>
/// Resolution order: the hosts file (the name as given), then A and AAAA queries in parallel to the
/// configured (or the system's) nameservers, for each name of the search list in turn
/// (<see cref="NameSearch"/>). The table does not balance, health-check or cache negative answers beyond
/// the retry delay; ordering for Happy Eyeballs is the only policy it applies.
/// </remarks>
internal sealed partial class AddressTable : IAsyncDisposable, IAddressResolver
{
    private readonly DnsOptions _options;
    private readonly ILogger<AddressTable> _logger;
    private readonly TimeProvider _timeProvider;
    private readonly HostsFile _hostsFile;
    private readonly NameSearch _search;
    private readonly ConcurrentDictionary<string, AddressEntry> _entries = new(StringComparer.OrdinalIgnoreCase);
    private readonly Lock _gate = new();
    private readonly List<Task> _loops = [];
    private readonly CancellationTokenSource _disposing = new();
    private Task? _hostsWatch;
    private bool _disposed;

    /// <summary>Creates an empty table; nothing is resolved until <see cref="SetNames"/> or <see cref="GetAsync"/>.</summary>
    /// <exception cref="InvalidOperationException"><paramref name="options"/> is invalid (see <see cref="DnsOptions.Validate"/>).</exception>
    public AddressTable(DnsOptions options, ILogger<AddressTable> logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options.Validate();
        _options = options;
        _logger = logger;
        _timeProvider = timeProvider;
        _hostsFile = new HostsFile(options.HostsFilePath, logger);
        _search = new NameSearch(
            new ResolvConfFile(options.ResolvConfPath, options.ResolverEnvironment, logger),
            new NameServerClient(options, logger));
    }

    /// <summary>
    /// Makes <paramref name="hosts"/> the names the table keeps: new names start resolving at once, in
    /// parallel and in the background (this method does not wait for them); names no longer listed stop
    /// being refreshed and are dropped. Called whenever a config is applied.
    /// </summary>
    public void SetNames(IEnumerable<string> hosts)
    {
        ArgumentNullException.ThrowIfNull(hosts);
        var wanted = new HashSet<string>(hosts, StringComparer.OrdinalIgnoreCase);
        List<AddressEntry>? dropped = null;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            foreach (string host in wanted)
            {
                if (!_entries.ContainsKey(host))
                {
                    AddLocked(host);
                }
            }

            foreach (KeyValuePair<string, AddressEntry> pair in _entries)
            {
                if (!wanted.Contains(pair.Key) && _entries.TryRemove(pair))
                {
                    (dropped ??= []).Add(pair.Value);
                }
            }

            _loops.RemoveAll(static t => t.IsCompleted);
        }

        foreach (AddressEntry entry in dropped ?? [])
        {
            entry.Stop();
            DnsLog.NameDropped(_logger, entry.Host);
        }
    }

    /// <summary>
    /// The addresses of <paramref name="host"/>. A known name answers synchronously from the table; a
    /// known name whose first lookup is still running waits for it; a name never passed to
    /// <see cref="SetNames"/> is added and resolved now. Failures are answers with an error, not exceptions.
    /// </summary>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was canceled while waiting for a lookup.</exception>
    /// <exception cref="ObjectDisposedException">The table was disposed.</exception>
    public ValueTask<DnsAnswer> GetAsync(string host, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(host);
        if (_entries.TryGetValue(host, out AddressEntry? entry))
        {
            Task<DnsAnswer> current = entry.Current;
            return current.IsCompletedSuccessfully
                ? new ValueTask<DnsAnswer>(current.Result)
                : new ValueTask<DnsAnswer>(current.WaitAsync(cancellationToken));
        }

        return new ValueTask<DnsAnswer>(AddAndWaitAsync(host, cancellationToken));
    }

    /// <summary>When <paramref name="host"/> is next refreshed, by the table's clock; null if unknown or refreshing now.</summary>
    internal DateTimeOffset? GetNextRefresh(string host) =>
        _entries.TryGetValue(host, out AddressEntry? entry) ? entry.NextRefresh : null;

    /// <summary>The names the table currently keeps.</summary>
    internal ICollection<string> Names => _entries.Keys;

    /// <summary>Stops every refresh and waits for the loops to end.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] running;
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (AddressEntry entry in _entries.Values)
            {
                entry.Stop();
            }

            _entries.Clear();
            running = _hostsWatch is null ? [.. _loops] : [.. _loops, _hostsWatch];
            _loops.Clear();
        }

        await _disposing.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(running).ConfigureAwait(false);
        _disposing.Dispose();
    }

    private Task<DnsAnswer> AddAndWaitAsync(string host, CancellationToken cancellationToken)
    {
        AddressEntry? entry;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_entries.TryGetValue(host, out entry))
            {
                entry = AddLocked(host);
            }
        }

        return entry.Current.WaitAsync(cancellationToken);
    }

    private AddressEntry AddLocked(string host)
    {
        AddressEntry entry;
        if (IPAddress.TryParse(host, out IPAddress? literal))
        {
            // Callers skip literals; if one comes anyway it is its own answer.
            entry = new AddressEntry(host, literal);
        }
        else
        {
            entry = new AddressEntry(host);

            // Task.Run: even reading the hosts file must not happen on the caller's thread.
            entry.Loop = Task.Run(() => RefreshLoopAsync(entry));
            _loops.Add(entry.Loop);
            _hostsWatch ??= Task.Run(WatchHostsFileAsync);
        }

        _entries[host] = entry;
        return entry;
    }
}

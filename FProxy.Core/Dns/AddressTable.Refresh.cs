using System.Net;

namespace FProxy.Dns;

/// <summary>The background side of <see cref="AddressTable"/>: one refresh loop per name, and the hosts-file watch.</summary>
internal sealed partial class AddressTable
{
    /// <summary>Refresh at this fraction of the smallest TTL, so a new answer is in before the old one expires.</summary>
    private const double RefreshAtTtlFraction = 0.8;

    private async Task RefreshLoopAsync(AddressEntry entry)
    {
        CancellationToken stopping = entry.Stopping;
        try
        {
            while (true)
            {
                Task wake = entry.WakeSignal;
                TimeSpan next;
                try
                {
                    LookupResult result = await ResolveAsync(entry, stopping).ConfigureAwait(false);
                    next = result.Error is null ? OnSuccess(entry, result) : OnFailure(entry, result.Error);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // Not expected (lookups return errors as values), but a name must never stop refreshing.
                    DnsLog.RefreshError(_logger, entry.Host, e);
                    next = OnFailure(entry, $"lookup of \"{entry.Host}\" failed: {e.Message}");
                }

                await entry.WaitAsync(next, wake, _timeProvider).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Dropped, or the table is being disposed.
        }
        finally
        {
            entry.Stopped();
        }
    }

    private async Task<LookupResult> ResolveAsync(AddressEntry entry, CancellationToken cancellationToken)
    {
        // The name as given, never with the search list applied, and a trailing dot kept: glibc's files
        // backend matches the hosts file the same way ("db." does not match a "db" line).
        bool found = _hostsFile.TryLookup(entry.Host, out IPAddress[] addresses, out int hostsFileVersion);
        entry.HostsFileVersion = hostsFileVersion;
        if (found)
        {
            // Hosts-file entries have no TTL: re-checked every MaxRefresh, or sooner when the file changes.
            return new LookupResult(addresses, _options.MaxRefresh, Error: null, FromHostsFile: true);
        }

        return await _search.LookupAsync(entry.Host, cancellationToken).ConfigureAwait(false);
    }

    private TimeSpan OnSuccess(AddressEntry entry, LookupResult result)
    {
        if (entry.Failures > 0)
        {
            DnsLog.Recovered(_logger, entry.Host, entry.Failures);
            entry.Failures = 0;
        }

        IPAddress[]? previous = entry.LastGood;
        if (previous is null)
        {
            entry.Publish(new DnsAnswer(result.Addresses, null));
            DnsLog.Resolved(_logger, entry.Host, result.Addresses, result.Source);
        }
        else if (!AddressOrder.SameSet(previous, result.Addresses))
        {
            entry.Publish(new DnsAnswer(result.Addresses, null));
            DnsLog.AnswerChanged(_logger, entry.Host, result.Addresses, result.Source, previous);
        }

        // Same addresses in another order (DNS round robin) are not republished: connection spreading
        // is the balancer's job, and republishing would churn the table on every refresh.
        if (result.FromHostsFile)
        {
            return _options.MaxRefresh;
        }

        TimeSpan refresh = result.Ttl * RefreshAtTtlFraction;
        return refresh < _options.MinRefresh ? _options.MinRefresh
            : refresh > _options.MaxRefresh ? _options.MaxRefresh
            : refresh;
    }

    private TimeSpan OnFailure(AddressEntry entry, string error)
    {
        entry.Failures++;

        // FailureRetry, doubled after each further failure, capped at MaxRefresh.
        TimeSpan retry = _options.FailureRetry;
        for (int i = 1; i < entry.Failures && retry < _options.MaxRefresh; i++)
        {
            retry *= 2;
        }

        if (retry > _options.MaxRefresh)
        {
            retry = _options.MaxRefresh;
        }

        DnsLog.LookupFailed(_logger, entry.Host, error);
        if (entry.LastGood is IPAddress[] lastGood)
        {
            if (entry.Failures == 1)
            {
                DnsLog.KeptLastGoodAnswer(_logger, entry.Host, lastGood, retry);
            }
        }
        else if (!entry.Current.IsCompleted || entry.Current.Result.Error != error)
        {
            entry.Publish(DnsAnswer.Failed(error));
        }

        return retry;
    }

    /// <summary>
    /// Checks the hosts file every MinRefresh and wakes every entry resolved against an older version of
    /// it, so a change applies at once (to DNS-resolved names too: the file may now list them). Polling (a stat per interval) rather than a FileSystemWatcher: inotify instances
    /// are scarce (128 per user on the build machines) and /etc/hosts is often a bind mount whose
    /// replacement a watcher misses.
    /// </summary>
    private async Task WatchHostsFileAsync()
    {
        if (_options.HostsFilePath.Length == 0)
        {
            return;
        }

        CancellationToken stopping = _disposing.Token;
        try
        {
            while (true)
            {
                await Task.Delay(_options.MinRefresh, _timeProvider, stopping).ConfigureAwait(false);
                _hostsFile.ReloadIfChanged();
                int version = _hostsFile.Version;

                // Per entry rather than "did it change since my last tick": an entry may have read the
                // file before this loop first looked at it.
                foreach (AddressEntry entry in _entries.Values)
                {
                    if (entry.HostsFileVersion != version && entry.Loop is not null)
                    {
                        entry.Wake();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Disposed.
        }
    }
}

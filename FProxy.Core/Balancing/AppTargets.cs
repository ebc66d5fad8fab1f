using FProxy.Configuration;

namespace FProxy.Balancing;

/// <summary>
/// The state of every distinct target of one app (its own and its rules'), kept across reloads for
/// as long as the app exists: a target that stays keeps its counts and health verdict, a new one
/// starts healthy with none. Changed by the daemon under its gate; read from any thread.
/// </summary>
internal sealed class AppTargets
{
    private readonly Dictionary<string, TargetState> _targets = new(StringComparer.Ordinal);
    private TargetState[] _published = [];

    /// <summary>The state of the target with <paramref name="key"/> (<see cref="TargetConfig.Key"/>), after <see cref="Update"/> included it.</summary>
    public TargetState this[string key] => _targets[key];

    /// <summary>Every target of the app now; safe to read from any thread (metrics, status).</summary>
    public TargetState[] All => Volatile.Read(ref _published);

    /// <summary>Follows a new config of the app: keeps the targets that stay (with their new weight), adds new ones, forgets the others.</summary>
    /// <returns>The states added and removed.</returns>
    public (List<TargetState> Added, List<TargetState> Removed) Update(AppConfig config)
    {
        var wanted = config.AllTargets().ToDictionary(static t => t.Key, StringComparer.Ordinal);
        var removed = new List<TargetState>();
        foreach (var (key, state) in _targets.ToArray())
        {
            if (!wanted.ContainsKey(key))
            {
                _targets.Remove(key);
                removed.Add(state);
            }
        }

        var added = new List<TargetState>();
        foreach (var (key, target) in wanted)
        {
            if (_targets.TryGetValue(key, out var state))
            {
                state.Config = target;
            }
            else
            {
                state = new TargetState(target);
                _targets.Add(key, state);
                added.Add(state);
            }
        }

        Volatile.Write(ref _published, [.. _targets.Values]);
        return (added, removed);
    }
}

using System.Collections;

namespace FProxy.Balancing;

/// <summary>
/// An immutable list of targets a strategy picks from: the available targets of one app (or of
/// one rule) at one moment. A change of health or config makes a new set and a new strategy.
/// </summary>
public sealed class TargetSet : IReadOnlyList<TargetState>
{
    private readonly TargetState[] _items;

    /// <summary>Creates a set holding <paramref name="targets"/> in order.</summary>
    /// <param name="targets">At least one target.</param>
    /// <exception cref="ArgumentException"><paramref name="targets"/> is empty.</exception>
    public TargetSet(IEnumerable<TargetState> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        _items = [.. targets];
        if (_items.Length == 0)
        {
            throw new ArgumentException("A target set needs at least one target.", nameof(targets));
        }

        long total = 0;
        foreach (var target in _items)
        {
            total += target.Weight;
        }

        TotalWeight = total;
        HasEqualWeights = Array.TrueForAll(_items, t => t.Weight == _items[0].Weight);
    }

    /// <inheritdoc/>
    public TargetState this[int index] => _items[index];

    /// <inheritdoc/>
    public int Count => _items.Length;

    /// <summary>The sum of the targets' weights.</summary>
    public long TotalWeight { get; }

    /// <summary>Whether every target has the same weight (weighted strategies may take a shortcut).</summary>
    public bool HasEqualWeights { get; }

    /// <summary>The targets as a span, for allocation-free loops.</summary>
    public ReadOnlySpan<TargetState> AsSpan() => _items;

    /// <inheritdoc/>
    public IEnumerator<TargetState> GetEnumerator() => ((IEnumerable<TargetState>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

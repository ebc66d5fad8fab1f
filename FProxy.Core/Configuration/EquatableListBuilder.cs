using System.ComponentModel;

namespace FProxy.Configuration;

/// <summary>
/// Lets collection expressions build an <see cref="EquatableList{T}"/>, so a config written in code
/// reads like its JSON: <c>Ports = [7001, 7002]</c>, <c>Targets = [new("10.0.0.1", 80)]</c>.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public static class EquatableListBuilder
{
    /// <summary>A list holding a copy of <paramref name="items"/> (what the compiler calls for <c>[a, b]</c>).</summary>
    /// <typeparam name="T">The element type.</typeparam>
    /// <param name="items">The elements, in order.</param>
    /// <returns>The list.</returns>
    public static EquatableList<T> Create<T>(ReadOnlySpan<T> items) =>
        items.IsEmpty ? EquatableList<T>.Empty : new EquatableList<T>(items.ToArray());
}

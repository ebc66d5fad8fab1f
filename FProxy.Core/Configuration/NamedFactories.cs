namespace FProxy.Configuration;

/// <summary>
/// Plug-in factories by the name config refers to them: case-insensitive, listed in the order
/// registered (built-ins first), a second registration of a name replacing the first. Shared by
/// the strategy and probe registries.
/// </summary>
/// <typeparam name="TFactory">The factory delegate.</typeparam>
internal sealed class NamedFactories<TFactory>
    where TFactory : Delegate
{
    private readonly Dictionary<string, TFactory> _factories = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _names = [];

    public IReadOnlyList<string> Names => _names;

    public TFactory this[string name] => _factories[name];

    /// <exception cref="ArgumentException"><paramref name="name"/> is empty or has characters other than letters, digits, '-' and '_'.</exception>
    public void Add(string name, TFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_')
            {
                throw new ArgumentException($"\"{name}\" is not a valid name: use letters, digits, '-' and '_'.", nameof(name));
            }
        }

        if (_factories.TryAdd(name, factory))
        {
            _names.Add(name);
        }
        else
        {
            _factories[name] = factory;
        }
    }

    public bool Contains(string name) => _factories.ContainsKey(name);
}

namespace FProxy.Configuration;

/// <summary>The rule for names of registered plug-ins (strategies, probes), which config refers to.</summary>
internal static class RegistryNames
{
    public static void Validate(string name)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not '-' and not '_')
            {
                throw new ArgumentException($"\"{name}\" is not a valid name: use letters, digits, '-' and '_'.", nameof(name));
            }
        }
    }
}

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// The committed seed inputs of each target, in Fuzzing/Corpus/TARGET/ (copied to the test
/// output): valid and interesting inputs that the fuzz tests mutate and check one by one.
/// </summary>
internal static class Corpus
{
    /// <summary>Every file of <paramref name="target"/>'s corpus, in name order.</summary>
    public static IReadOnlyList<byte[]> Bytes(string target) =>
        [.. Files(target).Select(File.ReadAllBytes)];

    /// <summary>Every file of <paramref name="target"/>'s corpus as UTF-8 text, in name order.</summary>
    public static IReadOnlyList<string> Texts(string target) =>
        [.. Files(target).Select(File.ReadAllText)];

    /// <summary>The lines of every file of <paramref name="target"/>'s corpus, without empty lines and lines starting with '#'.</summary>
    public static IReadOnlyList<string> Lines(string target) =>
        [.. Files(target).SelectMany(File.ReadLines).Where(static line => line.Length > 0 && line[0] != '#')];

    private static IEnumerable<string> Files(string target)
    {
        var directory = Path.Combine(AppContext.BaseDirectory, "Fuzzing", "Corpus", target);
        var files = Directory.GetFiles(directory);
        if (files.Length == 0)
        {
            throw new InvalidOperationException($"the fuzz corpus {directory} is empty");
        }

        return files.Order(StringComparer.Ordinal);
    }
}

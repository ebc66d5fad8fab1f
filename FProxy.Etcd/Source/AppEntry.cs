using FProxy.Configuration;

namespace FProxy.Etcd.Source;

/// <summary>
/// One key under <c>apps/</c> as last read: its value parsed (or why it could not be), when the key
/// was created (which decides port clashes), and the last version of it that was valid.
/// </summary>
internal sealed record AppEntry(
    string Key,
    string Name,
    long CreateRevision,
    string Json,
    AppConfig? App,
    IReadOnlyList<string> Errors,
    AppVersion? LastGood);

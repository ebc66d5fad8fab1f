namespace FProxy.Tests.Infrastructure;

/// <summary>Sets process environment variables and restores their previous values when disposed.</summary>
internal sealed class EnvironmentVariables : IDisposable
{
    private readonly (string Name, string? Previous)[] _saved;

    public EnvironmentVariables(params (string Name, string? Value)[] variables)
    {
        _saved = [.. variables.Select(v => (v.Name, Environment.GetEnvironmentVariable(v.Name)))];
        foreach ((string name, string? value) in variables)
        {
            Environment.SetEnvironmentVariable(name, value);
        }
    }

    public void Dispose()
    {
        foreach ((string name, string? previous) in _saved)
        {
            Environment.SetEnvironmentVariable(name, previous);
        }
    }
}

namespace FProxy.Tests.Balancing;

/// <summary>A random source that answers <see cref="Next(int)"/> from a script and records the bounds it was asked for.</summary>
internal sealed class ScriptedRandom(params int[] script) : Random
{
    private int _next;

    public List<int> Bounds { get; } = [];

    public override int Next(int maxValue)
    {
        Bounds.Add(maxValue);
        return script[_next++ % script.Length];
    }
}

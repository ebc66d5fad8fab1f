namespace FProxy.Host;

/// <summary>Entry point: environment to options, wiring, signals, exit codes.</summary>
internal static class Program
{
    public static int Main(string[] args) => args.Length;
}

using BenchmarkDotNet.Running;

namespace FProxy.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project FProxy.Benchmarks -- --filter '*' --job short</c>.
/// </summary>
public static class Program
{
    public static void Main(string[] args) =>
        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchmarkConfig.Create());
}

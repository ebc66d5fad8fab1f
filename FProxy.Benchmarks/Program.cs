using BenchmarkDotNet.Running;
using FProxy.Benchmarks.Ci;

namespace FProxy.Benchmarks;

/// <summary>
/// Entry point: <c>dotnet run -c Release --project FProxy.Benchmarks -- --filter '*' --job short</c>,
/// or <c>-- --ci</c> for the short pass CI runs against the committed baseline (see <see cref="CiPass"/>).
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (!CiOptions.IsRequested(args))
        {
            BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, BenchmarkConfig.Create());
            return 0;
        }

        CiOptions options;
        try
        {
            options = CiOptions.Parse(args);
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine("Usage: " + CiOptions.Usage);
            return 2;
        }

        return CiPass.Run(options);
    }
}

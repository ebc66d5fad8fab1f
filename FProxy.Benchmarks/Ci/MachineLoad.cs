using System.Globalization;

namespace FProxy.Benchmarks.Ci;

/// <summary>
/// How busy the machine's processors are with other work, from Linux's /proc/stat, so that a rerun
/// of a suspect benchmark can wait out another process's burst (a build, a test run) rather than
/// measure it again. Elsewhere it knows nothing and never waits.
/// </summary>
internal static class MachineLoad
{
    private const string ProcStat = "/proc/stat";

    /// <summary>
    /// Below this fraction of all cores busy (a quarter: half a core of two) the machine counts as
    /// quiet. Sampled while this process is idle between passes, so the busy time is other work.
    /// </summary>
    private const double QuietBusyFraction = 0.25;

    private static readonly TimeSpan Sample = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Waits until the machine is quiet, for at most <paramref name="limit"/> (a full rebuild of
    /// the solution takes about 1.5 minutes on two cores), and says what it saw.
    /// </summary>
    public static void WaitForQuiet(TimeSpan limit, TextWriter log)
    {
        var waited = TimeSpan.Zero;
        while (BusyFraction(Sample) is { } busy)
        {
            waited += Sample;
            if (busy < QuietBusyFraction)
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// Machine quiet ({busy:P0} busy) after {waited.TotalSeconds:0} s"));
                return;
            }

            if (waited >= limit)
            {
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// Machine still {busy:P0} busy with other work after {waited.TotalSeconds:0} s: rerunning anyway"));
                return;
            }
        }
    }

    /// <summary>Fraction of all processors' time not idle over <paramref name="window"/> (steal counts as busy); null without /proc/stat.</summary>
    private static double? BusyFraction(TimeSpan window)
    {
        if (ReadTimes() is not var (busy0, total0))
        {
            return null;
        }

        Thread.Sleep(window);
        if (ReadTimes() is not var (busy1, total1) || total1 <= total0)
        {
            return null;
        }

        return (double)(busy1 - busy0) / (total1 - total0);
    }

    /// <summary>Busy and total jiffies of the aggregate "cpu" line: user nice system idle iowait irq softirq steal ...</summary>
    private static (long Busy, long Total)? ReadTimes()
    {
        if (!File.Exists(ProcStat))
        {
            return null;
        }

        var fields = File.ReadLines(ProcStat).First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length < 9 || fields[0] != "cpu")
        {
            return null;
        }

        // Guest time (fields 9 and 10) is already included in user and nice.
        var times = fields.Skip(1).Take(8).Select(static field => long.Parse(field, CultureInfo.InvariantCulture)).ToArray();
        var total = times.Sum();
        var idle = times[3] + times[4];
        return (total - idle, total);
    }
}

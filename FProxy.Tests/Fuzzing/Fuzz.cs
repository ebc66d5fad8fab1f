using System.Diagnostics;
using System.Globalization;
using CsCheck;

namespace FProxy.Tests.Fuzzing;

/// <summary>
/// Runs a fuzz property over generated inputs (<see cref="Check{T}"/>) or listed ones
/// (<see cref="Each{T}"/>), on a thread of its own under a deadline per input, and writes
/// <c>fuzz TARGET: N executions ...</c> to the test output, the line bench/fuzz.sh sums.
/// </summary>
/// <remarks>
/// Generated inputs come from one generator state (<see cref="FuzzSettings"/>), so the seeded pass
/// makes the same inputs on every run and a long run can be repeated from its seed. CsCheck's own
/// <c>Sample</c> seeds every thread from the clock, which suits neither; it is used only to shrink
/// a failure, starting from the failing input's seed. A hang cannot be caught in .NET: the
/// watchdog reports the input and leaves its thread (a background one) spinning until the test
/// process ends.
/// </remarks>
internal static class Fuzz
{
    /// <summary>The longest one input may take; longer is a finding (a hang), whatever it returns.</summary>
    public static readonly TimeSpan InputDeadline = TimeSpan.FromSeconds(2);

    // Shrinking tries this many more inputs near the failing one, for at most this long.
    private const long ShrinkIterations = 20_000;
    private static readonly TimeSpan ShrinkDeadline = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan WatchInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Checks <paramref name="property"/> on <paramref name="iterations"/> inputs of
    /// <paramref name="gen"/> (the seeded pass), or on as many as fit in
    /// <see cref="FuzzSettings.Seconds"/> (a long run).
    /// </summary>
    public static void Check<T>(string target, Gen<T> gen, Action<T> property, int iterations, Func<T, string> print)
    {
        var start = FuzzSettings.Start();
        var inputs = Generate(gen, start, iterations, FuzzSettings.Seconds);
        Run(target, $"seed {start}", inputs, property, print, state => start.ToString(state), gen);
    }

    /// <summary>Checks <paramref name="property"/> on every one of <paramref name="inputs"/>, in order.</summary>
    public static void Each<T>(string target, IEnumerable<T> inputs, Action<T> property, Func<T, string> print) =>
        Run(target, "listed inputs", inputs.Select(static input => (input, (ulong?)null)), property, print, null, null);

    private static IEnumerable<(T Input, ulong? State)> Generate<T>(Gen<T> gen, PCG pcg, int iterations, int? seconds)
    {
        var until = Stopwatch.GetTimestamp() + ((seconds ?? 0) * Stopwatch.Frequency);
        for (var i = 0L; seconds is null ? i < iterations : Stopwatch.GetTimestamp() < until; i++)
        {
            var state = pcg.State;
            yield return (gen.Generate(pcg, null, out _), state);
        }
    }

    private static void Run<T>(
        string target,
        string origin,
        IEnumerable<(T Input, ulong? State)> inputs,
        Action<T> property,
        Func<T, string> print,
        Func<ulong, string>? seedOf,
        Gen<T>? shrinkWith)
    {
        var progress = new Progress<T>();
        var clock = Stopwatch.StartNew();
        var worker = new Thread(() => progress.Run(inputs, property)) { IsBackground = true, Name = $"fuzz {target}" };
        worker.Start();
        string? hang = null;
        while (hang is null && !worker.Join(WatchInterval))
        {
            hang = progress.Overdue(print, seedOf);
        }

        var executions = progress.Executions;
        TestContext.Out.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fuzz {target}: {executions} executions in {clock.Elapsed.TotalSeconds:0.0} s, {origin}"));
        if (hang is not null)
        {
            Assert.Fail($"fuzz {target}: a hang after {executions} executions: {hang}");
        }

        if (progress.GeneratorFailed)
        {
            Assert.Fail($"fuzz {target}: the generator threw after {executions} executions, a bug in the test, not a finding: {progress.Failure}");
        }

        if (progress.Failure is { } failure)
        {
            var seed = progress.State is { } state && seedOf is not null ? seedOf(state) : null;
            var shrunk = seed is not null && shrinkWith is not null ? Shrink(shrinkWith, property, print, seed) : null;
            Assert.Fail($"fuzz {target}: a finding after {executions} executions, {Describe(seed)}:{Environment.NewLine}"
                + $"{print(progress.Input)}{Environment.NewLine}{failure}"
                + (shrunk is null ? string.Empty : $"{Environment.NewLine}Shrunk by CsCheck ({FuzzSettings.SeedVariable} takes its seed too): {shrunk}"));
        }
    }

    private static string Describe(string? seed) =>
        seed is null ? "on a listed input" : $"seed {seed} (repeat it first with {FuzzSettings.SeedVariable}={seed})";

    /// <summary>CsCheck's report of the smallest failing input it finds from <paramref name="seed"/>, or null if none in time.</summary>
    private static string? Shrink<T>(Gen<T> gen, Action<T> property, Func<T, string> print, string seed)
    {
        string? report = null;
        var shrinker = new Thread(() =>
        {
            try
            {
                gen.Sample(property, seed: seed, iter: ShrinkIterations, threads: 1, print: print);
            }
            catch (CsCheckException e)
            {
                report = $"{e.Message}{Environment.NewLine}{e.InnerException?.Message}";
            }
        })
        { IsBackground = true, Name = "fuzz shrink" };
        shrinker.Start();
        return shrinker.Join(ShrinkDeadline) ? report : null;
    }

    /// <summary>What the worker is doing, read by the watchdog under the same lock.</summary>
    private sealed class Progress<T>
    {
        private readonly Lock _lock = new();
        private long _started; // Stopwatch timestamp of the current input; 0 between inputs.

        public long Executions { get; private set; }

        public T Input { get; private set; } = default!;

        public ulong? State { get; private set; }

        public Exception? Failure { get; private set; }

        /// <summary>Whether <see cref="Failure"/> came from making an input, not from the property.</summary>
        public bool GeneratorFailed { get; private set; }

        public void Run(IEnumerable<(T Input, ulong? State)> inputs, Action<T> property)
        {
            using var next = inputs.GetEnumerator();
            try
            {
                while (MoveNext(next))
                {
                    var (input, state) = next.Current;
                    lock (_lock)
                    {
                        Input = input;
                        State = state;
                        _started = Stopwatch.GetTimestamp();
                    }

                    property(input);
                    long started;
                    lock (_lock)
                    {
                        started = _started;
                        _started = 0;
                        Executions++;
                    }

                    var took = Stopwatch.GetElapsedTime(started);
                    if (took > InputDeadline)
                    {
                        throw new FuzzFinding($"took {took.TotalSeconds:0.0} s, over the {InputDeadline.TotalSeconds:0} s an input may take");
                    }
                }
            }
#pragma warning disable CA1031 // Any exception is a finding, reported by the test thread.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Failure = e;
            }
        }

        private bool MoveNext(IEnumerator<(T Input, ulong? State)> next)
        {
            try
            {
                return next.MoveNext();
            }
            catch
            {
                GeneratorFailed = true;
                throw;
            }
        }

        /// <summary>The input running past the deadline, described, or null.</summary>
        public string? Overdue(Func<T, string> print, Func<ulong, string>? seedOf)
        {
            lock (_lock)
            {
                if (_started == 0 || Stopwatch.GetElapsedTime(_started) <= InputDeadline)
                {
                    return null;
                }

                var seed = State is { } state && seedOf is not null ? seedOf(state) : null;
                return $"{Describe(seed)}, still running after {InputDeadline.TotalSeconds:0} s:{Environment.NewLine}{print(Input)}";
            }
        }
    }
}

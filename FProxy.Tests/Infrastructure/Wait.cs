namespace FProxy.Tests.Infrastructure;

/// <summary>Waits on conditions with deadlines, never fixed sleeps.</summary>
internal static class Wait
{
    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        var delay = 1;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds} s waiting for {what}");
            }

            await Task.Delay(delay);
            delay = Math.Min(delay * 2, 50);
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds; the token (a test's deadline) ends the wait.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, CancellationToken cancellationToken)
    {
        var delay = 1;
        while (!await condition())
        {
            await Task.Delay(delay, cancellationToken);
            delay = Math.Min(delay * 2, 50);
        }
    }

    /// <inheritdoc cref="UntilAsync(Func{Task{bool}}, CancellationToken)"/>
    public static Task UntilAsync(Func<bool> condition, CancellationToken cancellationToken) =>
        UntilAsync(() => Task.FromResult(condition()), cancellationToken);
}

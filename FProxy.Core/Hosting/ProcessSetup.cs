namespace FProxy.Hosting;

/// <summary>
/// What the process needs for the data path, applied by the library rather than left to each host:
/// inline socket completions (the sockets transport) and the open-files limit.
/// </summary>
internal static class ProcessSetup
{
    public const string InlineCompletionsVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>
    /// Socket completions run on the runtime's epoll threads instead of hopping to the thread pool:
    /// measured to halve the sockets transport's CPU per connection (docs/architecture.md). The
    /// runtime reads the variable once, when its socket engine starts, so it is set as early as the
    /// library is reached; an explicit value, 0 included, is the user's and is kept.
    /// </summary>
    public static void RequestInlineCompletions()
    {
        if (Environment.GetEnvironmentVariable(InlineCompletionsVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineCompletionsVariable, "1");
        }
    }

    /// <summary>Whether the variable says inline completions are on (what the runtime will have read, if it read it after us).</summary>
    public static bool InlineCompletionsRequested => Environment.GetEnvironmentVariable(InlineCompletionsVariable) == "1";
}

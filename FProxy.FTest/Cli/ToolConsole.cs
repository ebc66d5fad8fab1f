using FProxy.FTest.Net;
using Spectre.Console;

namespace FProxy.FTest.Cli;

/// <summary>
/// Where a command writes and how it reaches the world: standard output as a Spectre console (for
/// tables and live displays on a terminal), standard error for one-line errors, and the resolver.
/// Tests build one over string writers.
/// </summary>
internal sealed class ToolConsole(IAnsiConsole ansi, TextWriter error, IHostResolver? resolver = null)
{
    public IAnsiConsole Ansi { get; } = ansi;

    /// <summary>Plain lines, written as they are (no markup, no wrapping).</summary>
    public TextWriter Out => Ansi.Profile.Out.Writer;

    public TextWriter Error { get; } = error;

    public IHostResolver Resolver { get; } = resolver ?? SystemHostResolver.Instance;

    /// <summary>True when a terminal is attached: live progress instead of plain lines.</summary>
    public bool Live => Ansi.Profile.Capabilities.Interactive && Ansi.Profile.Capabilities.Ansi;

    /// <summary>The process's own console.</summary>
    public static ToolConsole System() => new(AnsiConsole.Console, Console.Error);

    /// <summary>A console with no terminal: plain text, no colours, no live display.</summary>
    public static ToolConsole Plain(TextWriter output, TextWriter error, IHostResolver? resolver = null) => new(
        AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(output),
        }),
        error,
        resolver);

    /// <summary>Reports a problem as one line on standard error.</summary>
    public void Fail(string message) => Error.WriteLine("ftest: " + message);
}

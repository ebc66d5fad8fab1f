using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using FProxy.FTest.Net;

namespace FProxy.FTest.Cli;

/// <summary>Arguments and options shared by the commands, each parsing its value strictly.</summary>
internal static class Options
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Option<TimeSpan>, object> Fallbacks = [];

    public static Argument<Address> Address() => new("ADDRESS")
    {
        Description = "Where to connect: host:port, 1.2.3.4:port or [::1]:port",
        CustomParser = static result =>
        {
            var text = result.Tokens[0].Value;
            if (Net.Address.TryParse(text, out var address, out var problem))
            {
                return address;
            }

            result.AddError(problem);
            return null;
        },
    };

    /// <summary>
    /// A duration in FProxy's syntax. The fallback is applied by <see cref="Value"/> and shown in
    /// the description, because help would print a default TimeSpan as "00:00:05".
    /// </summary>
    public static Option<TimeSpan> Duration(string name, string description, TimeSpan? fallback, params string[] aliases)
    {
        var option = new Option<TimeSpan>(name, aliases)
        {
            Description = fallback is { } f ? $"{description} [default: {Durations.Format(f)}]" : description,
            HelpName = "DURATION",
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 0 ? string.Empty : result.Tokens[0].Value;
                if (Durations.TryParse(text, out var value))
                {
                    return value;
                }

                result.AddError($"invalid {name} \"{text}\": {Durations.Expected}");
                return default;
            },
        };
        if (fallback is { } value)
        {
            Fallbacks.AddOrUpdate(option, value);
        }

        return option;
    }

    /// <summary>A duration option's value: the one given, else its fallback.</summary>
    public static TimeSpan Value(ParseResult result, Option<TimeSpan> option) =>
        result.GetResult(option) is null && Fallbacks.TryGetValue(option, out var fallback) ? (TimeSpan)fallback : result.GetValue(option);

    public static Option<string> Data(string fallback) => new("--data", "-d")
    {
        Description = "What to send on each connection",
        HelpName = "DATA",
        DefaultValueFactory = _ => fallback,
        Validators = { static result => NotEmpty(result, "--data") },
    };

    public static Option<int> Positive(string name, string description, int? fallback, params string[] aliases)
    {
        var option = new Option<int>(name, aliases)
        {
            Description = description,
            HelpName = "N",
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 0 ? string.Empty : result.Tokens[0].Value;
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0)
                {
                    return n;
                }

                result.AddError($"invalid {name} \"{text}\": expected a positive integer");
                return 0;
            },
        };
        if (fallback is { } value)
        {
            option.DefaultValueFactory = _ => value;
        }

        return option;
    }

    /// <summary>A comma-separated list, as -d a,b,c.</summary>
    public static string[] SplitList(string text) => text.Split(',');

    private static void NotEmpty(OptionResult result, string name)
    {
        if (result.Tokens.Count > 0 && result.Tokens[0].Value.Length == 0)
        {
            result.AddError($"{name} must not be empty");
        }
    }
}

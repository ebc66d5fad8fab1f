using System.Globalization;
using System.Text;

namespace FProxy.Tests.Fuzzing;

/// <summary>Inputs as a failure message shows them: exactly, so that they can be pasted into a regression test.</summary>
internal static class FuzzPrint
{
    /// <summary>Bytes as hex, for <c>Convert.FromHexString</c>.</summary>
    public static string Bytes(byte[] bytes) => $"{bytes.Length} bytes: \"{Convert.ToHexString(bytes)}\"";

    /// <summary>Text as a C# string literal, every character outside printable ASCII escaped.</summary>
    public static string Text(string text)
    {
        var literal = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            _ = c switch
            {
                '"' => literal.Append("\\\""),
                '\\' => literal.Append("\\\\"),
                '\r' => literal.Append("\\r"),
                '\n' => literal.Append("\\n"),
                '\t' => literal.Append("\\t"),
                >= ' ' and <= '~' => literal.Append(c),
                _ => literal.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}"),
            };
        }

        return literal.Append('"').ToString();
    }
}

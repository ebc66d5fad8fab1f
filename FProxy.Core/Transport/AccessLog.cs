using System.Net;
using Microsoft.Extensions.Logging;

namespace FProxy.Transport;

/// <summary>
/// One line per finished connection, in the "FProxy.Access" category (so FPROXY_LOG_LEVEL and
/// logging filters govern it like any other). Source-generated: the arguments are not formatted
/// unless the line is written, and the host's console logger queues lines off the data path.
/// </summary>
internal static partial class AccessLog
{
    public const string Category = "FProxy.Access";

    [LoggerMessage(1250, LogLevel.Information,
        "{App} port={Port} client={Client} target={Target} connect_ms={ConnectMs} duration_ms={DurationMs} bytes_up={BytesUp} bytes_down={BytesDown} end={End}")]
    public static partial void Finished(
        ILogger logger, string app, int port, IPEndPoint? client, string target, double connectMs, double durationMs, long bytesUp, long bytesDown, string end);

    /// <summary>The <c>end</c> field: how the connection ended.</summary>
    public static string Describe(PumpEnd end) => end switch
    {
        PumpEnd.Closed => "closed",
        PumpEnd.ClientReset => "client_reset",
        PumpEnd.TargetReset => "target_reset",
        PumpEnd.Aborted => "aborted",
        PumpEnd.IdleTimeout => "idle_timeout",
        _ => end.ToString(),
    };
}

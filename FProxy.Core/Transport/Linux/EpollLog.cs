using Microsoft.Extensions.Logging;

namespace FProxy.Transport.Linux;

/// <summary>Epoll transport log messages, EventIds 1260-1279 (within the transport's 1200-1299).</summary>
internal static partial class EpollLog
{
    [LoggerMessage(1260, LogLevel.Information, "transport: epoll, {Loops} I/O thread(s), splice {Splice} (up to {Pipes} pipes)")]
    public static partial void Started(ILogger logger, int loops, string splice, int pipes);

    [LoggerMessage(1261, LogLevel.Critical, "epoll loop {Loop}: epoll_wait failed ({Error})")]
    public static partial void WaitFailed(ILogger logger, int loop, string error);

    [LoggerMessage(1262, LogLevel.Error, "epoll loop {Loop}: a connection's handler failed; the loop goes on")]
    public static partial void HandlerFailed(ILogger logger, int loop, Exception exception);
}

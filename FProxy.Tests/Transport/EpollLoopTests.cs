using FProxy.Transport;
using FProxy.Transport.Linux;
using Microsoft.Extensions.Logging.Abstractions;

namespace FProxy.Tests.Transport;

internal sealed class EpollLoopTests
{
    /// <summary>
    /// Work posted after the loop stopped must not write its wake-up to the eventfd's number,
    /// which the process may have given to something else by then (it once landed in the
    /// runtime's signal pipe and killed the process with a SIGHUP nobody sent).
    /// </summary>
    [Test]
    public void Post_AfterTheLoopStopped_WritesToNoReusedDescriptor()
    {
        if (!EpollTransport.IsSupported)
        {
            Assert.Ignore("the epoll transport needs Linux on x64 or arm64");
        }

        var loop = new EpollLoop(0, TimeProvider.System, new PinnedBlockMemoryPool(),
            new PipePool(new PipeAllowance(new ConnectionBudget(64), 0)), splice: false, NullLogger.Instance);
        loop.Start();
        loop.Dispose();

        // The freed descriptor numbers go to the next files opened.
        var paths = Enumerable.Range(0, 16).Select(static _ => Path.GetTempFileName()).ToList();
        var files = paths.Select(static p => new FileStream(p, FileMode.Open, FileAccess.ReadWrite)).ToList();
        try
        {
            for (var i = 0; i < 4; i++)
            {
                loop.Post(static _ => { }, null);
            }

            foreach (var file in files)
            {
                file.Flush();
            }

            Assert.That(paths.Select(static p => new FileInfo(p).Length), Is.All.Zero, "a stray wake-up was written into a reused descriptor");
        }
        finally
        {
            foreach (var file in files)
            {
                file.Dispose();
            }

            foreach (var path in paths)
            {
                File.Delete(path);
            }
        }
    }
}

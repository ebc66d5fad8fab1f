using System.Net;
using System.Net.Sockets;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// Hands out free loopback ports for tests that must name a port before binding it (configs need
/// real ports). The kernel readily returns a just-released port to the next bind(0), so every port
/// given out is remembered and never given again in this test run, and a batch is held bound
/// while it is picked.
/// </summary>
internal static class TestPorts
{
    private static readonly HashSet<int> Issued = [];

    public static int[] Take(int count)
    {
        var held = new List<Socket>();
        try
        {
            var ports = new List<int>(count);
            lock (Issued)
            {
                while (ports.Count < count)
                {
                    var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    held.Add(socket);
                    socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
                    var port = ((IPEndPoint)socket.LocalEndPoint!).Port;
                    if (Issued.Add(port))
                    {
                        ports.Add(port);
                    }
                }
            }

            return [.. ports];
        }
        finally
        {
            held.ForEach(static s => s.Dispose());
        }
    }
}

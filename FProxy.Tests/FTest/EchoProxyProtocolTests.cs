extern alias FTestTool;

using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using FProxy.ProxyProtocol;
using FProxy.Tests.Infrastructure;
using FTestTool::FProxy.FTest.Cli;
using FTestTool::FProxy.FTest.Commands;
using FTestTool::FProxy.FTest.Net;

namespace FProxy.Tests.FTest;

/// <summary>
/// <c>ftest echo --proxy-protocol</c>: each connection must start with a PROXY protocol header;
/// the backend answers with a line saying what the header carried, then echoes what followed it.
/// Headers here are made by FProxy.Core's writer or spelt out byte by byte.
/// </summary>
[CancelAfter(20_000)]
public sealed class EchoProxyProtocolTests
{
    [TestCase(1, "127.0.0.1", "192.0.2.1:5000")]
    [TestCase(2, "127.0.0.1", "192.0.2.1:5000")]
    [TestCase(1, "::1", "[2001:db8::1]:5555")]
    [TestCase(2, "::1", "[2001:db8::1]:5555")]
    public async Task Header_RepliesWithItsAddressesThenEchoes(int version, string bind, string source, CancellationToken ct)
    {
        using var log = new StringWriter();
        await using var echo = EchoBackend.Start(IPAddress.Parse(bind), 0, tag: null, proxyProtocol: true, TextWriter.Synchronized(log));
        using var client = await Sockets.ConnectAsync(echo.EndPoint, ct);

        await client.SendAsync(Header(version, IPEndPoint.Parse(source), echo.EndPoint), SocketFlags.None, ct);
        await client.SendAsync("hello"u8.ToArray(), SocketFlags.None, ct);

        var target = EchoBackend.Format(echo.EndPoint);
        Assert.That(await ReadLineAsync(client, ct), Is.EqualTo($"PROXY {source} -> {target}\n"));
        Assert.That(Encoding.ASCII.GetString(await Sockets.ReadAsync(client, 5, ct)), Is.EqualTo("hello"));
        client.Shutdown(SocketShutdown.Send);
        Assert.That(await Sockets.ReadEndAsync(client, ct), Is.EqualTo(SocketError.Success), "half-closes after the client's FIN, as without a header");
        Assert.That(log.ToString(), Does.Contain($"{target}: from {EchoBackend.Format((IPEndPoint)client.LocalEndPoint!)}: PROXY v{version} {source} -> {target}"));
    }

    [TestCase("v2 LOCAL")]
    [TestCase("v1 UNKNOWN")]
    [TestCase("v2 PROXY over UDP")]
    [TestCase("v2 PROXY UNSPEC")]
    public async Task HeaderWithoutTcpAddresses_RepliesProxyLocal(string kind, CancellationToken ct)
    {
        await using var echo = EchoBackend.Start(IPAddress.Loopback, 0, tag: null, proxyProtocol: true);
        using var client = await Sockets.ConnectAsync(echo.EndPoint, ct);

        await client.SendAsync(LocalHeader(kind), SocketFlags.None, ct);
        await client.SendAsync("x"u8.ToArray(), SocketFlags.None, ct);

        Assert.That(await ReadLineAsync(client, ct), Is.EqualTo("PROXY LOCAL\n"));
        Assert.That(await Sockets.ReadAsync(client, 1, ct), Is.EqualTo("x"u8.ToArray()));
    }

    [TestCase(1)]
    [TestCase(2)]
    public async Task HeaderSplitAcrossWrites_IsReadWhole(int version, CancellationToken ct)
    {
        await using var echo = EchoBackend.Start(IPAddress.Loopback, 0, tag: null, proxyProtocol: true);
        using var client = await Sockets.ConnectAsync(echo.EndPoint, ct);
        var header = Header(version, IPEndPoint.Parse("192.0.2.1:5000"), echo.EndPoint);

        // Four writes, the first inside the v2 signature or the v1 "PROXY " word.
        foreach (var part in new[] { header[..3], header[3..14], header[14..20], header[20..] })
        {
            await client.SendAsync(part, SocketFlags.None, ct);
        }

        await client.SendAsync("after"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await ReadLineAsync(client, ct), Is.EqualTo($"PROXY 192.0.2.1:5000 -> {EchoBackend.Format(echo.EndPoint)}\n"));
        Assert.That(await Sockets.ReadAsync(client, 5, ct), Is.EqualTo("after"u8.ToArray()));
    }

    [TestCase(1)]
    [TestCase(2)]
    public async Task BytesInTheSameWriteAsTheHeader_AreEchoed(int version, CancellationToken ct)
    {
        await using var echo = EchoBackend.Start(IPAddress.Loopback, 0, tag: null, proxyProtocol: true);
        using var client = await Sockets.ConnectAsync(echo.EndPoint, ct);

        await client.SendAsync((byte[])[.. Header(version, IPEndPoint.Parse("192.0.2.1:5000"), echo.EndPoint), .. "same segment"u8], SocketFlags.None, ct);

        Assert.That(await ReadLineAsync(client, ct), Does.StartWith("PROXY 192.0.2.1:5000 -> "));
        Assert.That(Encoding.ASCII.GetString(await Sockets.ReadAsync(client, 12, ct)), Is.EqualTo("same segment"));
        await client.SendAsync("!"u8.ToArray(), SocketFlags.None, ct);
        Assert.That(await Sockets.ReadAsync(client, 1, ct), Is.EqualTo("!"u8.ToArray()), "and the echo goes on");
    }

    [Test]
    public async Task WithTag_ProxyLineThenGreetingThenEcho(CancellationToken ct)
    {
        await using var echo = EchoBackend.Start(IPAddress.Loopback, 0, tag: "a", proxyProtocol: true);
        using var client = await Sockets.ConnectAsync(echo.EndPoint, ct);

        await client.SendAsync((byte[])[.. Header(2, IPEndPoint.Parse("192.0.2.1:5000"), echo.EndPoint), .. "hi"u8], SocketFlags.None, ct);

        Assert.That(await ReadLineAsync(client, ct), Does.StartWith("PROXY 192.0.2.1:5000 -> "));
        Assert.That(await ReadLineAsync(client, ct), Is.EqualTo($"a:{echo.EndPoint.Port}\n"));
        Assert.That(await Sockets.ReadAsync(client, 2, ct), Is.EqualTo("hi"u8.ToArray()));
    }

    [TestCase("GET / HTTP/1.1\r\n\r\n", "not a PROXY protocol header")]
    [TestCase("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", "v1 TCP4 header with an address that is not IPv4")]
    [TestCase("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "v1 header not ending in CR LF")]
    [TestCase("\r\n\r\n\0\r\nQUIT\n\u0031\u0011\0\u000c", "v2 header with a version other than 2")]
    public async Task MalformedHeader_ResetsAndLogsThePeerAndTheReason(string bytes, string reason, CancellationToken ct)
    {
        using var log = new StringWriter();
        await using var echo = EchoBackend.Start(IPAddress.Loopback, 0, tag: "a", proxyProtocol: true, TextWriter.Synchronized(log));
        using var client = await Sockets.ConnectAsync(echo.EndPoint, ct);
        var peer = EchoBackend.Format((IPEndPoint)client.LocalEndPoint!);

        await client.SendAsync(Encoding.Latin1.GetBytes(bytes), SocketFlags.None, ct);

        Assert.That(await Sockets.ReadEndAsync(client, ct), Is.EqualTo(SocketError.ConnectionReset), "a reset, and no greeting before it");
        Assert.That(log.ToString(), Does.Contain($"{EchoBackend.Format(echo.EndPoint)}: from {peer}: reset: {reason}"));
    }

    [Test]
    public async Task NoHeaderInTime_Resets(CancellationToken ct)
    {
        using var log = new StringWriter();
        await using var echo = EchoBackend.Start(IPAddress.Loopback, 0, tag: null, proxyProtocol: true, TextWriter.Synchronized(log), TimeSpan.FromMilliseconds(200));
        using var silent = await Sockets.ConnectAsync(echo.EndPoint, ct);
        using var partial = await Sockets.ConnectAsync(echo.EndPoint, ct);
        await partial.SendAsync("PROXY TCP4 "u8.ToArray(), SocketFlags.None, ct);

        Assert.That(await Sockets.ReadEndAsync(silent, ct), Is.EqualTo(SocketError.ConnectionReset));
        Assert.That(await Sockets.ReadEndAsync(partial, ct), Is.EqualTo(SocketError.ConnectionReset));
        Assert.That(log.ToString(), Does.Contain("reset: no complete PROXY header within 200ms"));
    }

    [Test]
    public async Task FinBeforeTheHeader_Resets(CancellationToken ct)
    {
        using var log = new StringWriter();
        await using var echo = EchoBackend.Start(IPAddress.Loopback, 0, tag: null, proxyProtocol: true, TextWriter.Synchronized(log));
        using var client = await Sockets.ConnectAsync(echo.EndPoint, ct);

        client.Shutdown(SocketShutdown.Send);

        Assert.That(await Sockets.ReadEndAsync(client, ct), Is.EqualTo(SocketError.ConnectionReset));
        Assert.That(log.ToString(), Does.Contain("reset: closed before sending a PROXY header"));
    }

    [Test]
    public async Task Command_PingBalancerSimulateAndWatchWithAHeader_SeeTheLineAndPass(CancellationToken ct)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var command = new EchoCommand(ToolConsole.Plain(output, error));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var run = command.RunAsync(new EchoOptions([0], IPAddress.Loopback, "a", ProxyProtocol: true), stop.Token);
        var endPoint = (await command.Listening.WaitAsync(ct))[0];
        var target = EchoBackend.Format(endPoint);
        var claim = new[] { "--proxy-protocol", "v2", "--source", "192.0.2.1:5000" };

        // The tag greeting follows the PROXY line, which the clients set aside: an expectation can still name the backend.
        var ping = await FTestRunner.RunAsync(ct, ["ping", target, .. claim]);
        var balancer = await FTestRunner.RunAsync(ct, ["balancer", target, "-d", "x,y", "-e", $"a:{endPoint.Port},a:{endPoint.Port}", .. claim]);
        var bare = await FTestRunner.RunAsync(ct, "ping", target);

        await stop.CancelAsync();
        Assert.That(await run, Is.Zero, error.ToString());
        Assert.That(ping.ExitCode, Is.Zero, ping.Error);
        Assert.That(ping.Out, Does.Contain($"{target}: sent PROXY v2 header 192.0.2.1:5000 -> {target}"));
        Assert.That(ping.Out, Does.Contain($"{target}: target replied \"PROXY 192.0.2.1:5000 -> {target}\""));
        Assert.That(balancer.ExitCode, Is.Zero, balancer.Error);
        Assert.That(bare.Error, Does.Contain("reset: ").Or.Contain("closed: "), "no header: the backend resets");
        Assert.That(output.ToString(), Does.Contain($"listening on {target} (PROXY header, its line, greeting \"a:{endPoint.Port}\\n\", then echo)"));
        Assert.That(output.ToString(), Does.Contain($"PROXY v2 192.0.2.1:5000 -> {target}").And.Contain("reset: not a PROXY protocol header"));
    }

    [TestCase("simulate|-c|4|-n|40")]
    [TestCase("watch|--interval|10ms|--duration|200ms")]
    public async Task Command_LoadAndWatchWithAHeader_CheckTheEchoAfterTheLine(string args, CancellationToken ct)
    {
        await using var echo = EchoBackend.Start(IPAddress.Loopback, 0, tag: null, proxyProtocol: true);
        var words = args.Split('|');

        var run = await FTestRunner.RunAsync(ct, [words[0], EchoBackend.Format(echo.EndPoint), .. words[1..], "--proxy-protocol", "v1"]);

        Assert.That(run.ExitCode, Is.Zero, run.Error);
        Assert.That(run.Out, Does.Contain(" 0 failed"));
    }

    [Test]
    public async Task Command_VersionAfterProxyProtocol_IsABadPortThatSaysWhy(CancellationToken ct)
    {
        var run = await FTestRunner.RunAsync(ct, "echo", "0", "--proxy-protocol", "v1");

        // The option is a flag, so "v1" is read as a port.
        run.AssertOneLineError(1, "invalid port \"v1\": expected 0-65535; echo's --proxy-protocol takes no version, it reads v1 and v2");
    }

    private static byte[] Header(int version, IPEndPoint source, IPEndPoint destination)
    {
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        return buffer[..ProxyHeaderWriter.Write(buffer, version, source, destination)];
    }

    private static byte[] LocalHeader(string kind)
    {
        var buffer = new byte[ProxyHeaderWriter.MaxLength];
        switch (kind)
        {
            case "v2 LOCAL":
                return buffer[..ProxyHeaderWriter.WriteLocal(buffer, 2)];
            case "v1 UNKNOWN":
                return buffer[..ProxyHeaderWriter.WriteLocal(buffer, 1)];
            default:
                // PROXY command, but UDP over IPv4 (12 address bytes) or UNSPEC (none): no TCP client to name.
                var udp = kind.EndsWith("UDP", StringComparison.Ordinal);
                ProxyHeaderParser.V2Signature.CopyTo(buffer);
                buffer[12] = 0x21;
                buffer[13] = udp ? (byte)0x12 : (byte)0x00;
                BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(14), udp ? (ushort)12 : (ushort)0);
                return buffer[..(16 + (udp ? 12 : 0))];
        }
    }

    private static async Task<string> ReadLineAsync(Socket socket, CancellationToken ct)
    {
        var line = new List<byte>();
        var one = new byte[1];
        while (await socket.ReceiveAsync(one, SocketFlags.None, ct) == 1)
        {
            line.Add(one[0]);
            if (one[0] == '\n')
            {
                break;
            }
        }

        return Encoding.ASCII.GetString([.. line]);
    }
}

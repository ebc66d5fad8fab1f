using System.Buffers;
using System.Text;
using FProxy.Routing;

namespace FProxy.Tests.Routing;

public sealed class ClientHelloParserTests
{
    // Offsets in a ClientHelloBuilder hello (one record): record header 0-4, handshake type 5,
    // handshake length 6-8, session id length 43, cipher suites length 76, compression length 84,
    // extensions length 86, first extension (supported_groups) type 88 and length 90.
    private const int HandshakeType = 5;
    private const int SessionIdLength = 43;
    private const int CipherSuitesLength = 76;
    private const int ExtensionsLength = 86;
    private const int FirstExtensionLength = 90;

    /// <summary>
    /// A TLS 1.3 ClientHello as a client sends it: the one dissected byte by byte at
    /// https://tls13.xargs.org (SNI example.ulfheim.net, ten extensions, server_name first).
    /// </summary>
    private static readonly byte[] CapturedHello = Convert.FromHexString(
        "16030100f8010000f40303000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000813021303130100ff010000a30000001800160000136578616d706c652e756c666865696d2e6e6574000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000016000000170000000d001e001c040305030603080708080809080a080b080408050806040105010601002b0003020304002d00020101003300260024001d0020358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254");

    private static SniParseResult Parse(byte[] bytes, out string? serverName) =>
        ClientHelloParser.TryReadServerName(new ReadOnlySequence<byte>(bytes), out serverName);

    private static SniParseResult Parse(byte[] bytes) => Parse(bytes, out _);

    [Test]
    public void TryReadServerName_HelloWithSni_Found()
    {
        var result = Parse(ClientHelloBuilder.Build("api.example.com"), out var name);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(SniParseResult.Found));
            Assert.That(name, Is.EqualTo("api.example.com"));
        });
    }

    [Test]
    public void TryReadServerName_CapturedHello_Found()
    {
        var result = Parse(CapturedHello, out var name);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(SniParseResult.Found));
            Assert.That(name, Is.EqualTo("example.ulfheim.net"));
        });
    }

    [Test]
    public void TryReadServerName_UpperCaseName_ReturnsLowerCase()
    {
        Parse(ClientHelloBuilder.Build("API.Example.COM"), out var name);
        Assert.That(name, Is.EqualTo("api.example.com"));
    }

    [Test]
    public void TryReadServerName_ApplicationDataAfterHello_IgnoresIt()
    {
        byte[] bytes = [.. ClientHelloBuilder.Build("a.example.com"), 0x17, 0x03, 0x03, 0x00, 0x01, 0xFF];
        Assert.That(Parse(bytes), Is.EqualTo(SniParseResult.Found));
    }

    [Test]
    public void TryReadServerName_HelloWithoutSni_NoServerName()
    {
        var result = Parse(ClientHelloBuilder.Build(null), out var name);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(SniParseResult.NoServerName));
            Assert.That(name, Is.Null);
        });
    }

    [Test]
    public void TryReadServerName_HelloWithoutExtensions_NoServerName()
    {
        // A TLS 1.0-era hello may end after the compression methods.
        var handshake = ClientHelloBuilder.BuildHandshake(null)[..(ExtensionsLength - 5)];
        var bodyLength = handshake.Length - 4;
        handshake[1] = (byte)(bodyLength >> 16);
        handshake[2] = (byte)(bodyLength >> 8);
        handshake[3] = (byte)bodyLength;
        Assert.That(Parse(ClientHelloBuilder.WrapInRecords(handshake)), Is.EqualTo(SniParseResult.NoServerName));
    }

    [TestCase("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")]
    [TestCase("G")]
    [TestCase("SSH-2.0-OpenSSH_9.6\r\n")]
    public void TryReadServerName_PlainText_NotTls(string text)
    {
        var result = Parse(Encoding.ASCII.GetBytes(text), out var name);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(SniParseResult.NotTls));
            Assert.That(name, Is.Null);
        });
    }

    [Test]
    public void TryReadServerName_Empty_NeedMoreData()
    {
        var result = ClientHelloParser.TryReadServerName(ReadOnlySequence<byte>.Empty, out var name);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(SniParseResult.NeedMoreData));
            Assert.That(name, Is.Null);
        });
    }

    [Test]
    public void TryReadServerName_EveryPrefix_NeedMoreDataUntilComplete()
    {
        var hello = ClientHelloBuilder.Build("api.example.com");
        for (var length = 0; length < hello.Length; length++)
        {
            Assert.That(Parse(hello[..length]), Is.EqualTo(SniParseResult.NeedMoreData), $"prefix of {length} bytes");
        }

        Assert.That(Parse(hello), Is.EqualTo(SniParseResult.Found));
    }

    [Test]
    public void TryReadServerName_EveryPrefixOfCapturedHello_NeedMoreDataUntilComplete()
    {
        for (var length = 0; length < CapturedHello.Length; length++)
        {
            Assert.That(Parse(CapturedHello[..length]), Is.EqualTo(SniParseResult.NeedMoreData), $"prefix of {length} bytes");
        }
    }

    [Test]
    public void TryReadServerName_OneByteSegments_Found()
    {
        var sequence = Segments.Split(ClientHelloBuilder.Build("api.example.com"), 1);
        Assert.That(sequence.IsSingleSegment, Is.False);
        var result = ClientHelloParser.TryReadServerName(sequence, out var name);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(SniParseResult.Found));
            Assert.That(name, Is.EqualTo("api.example.com"));
        });
    }

    [TestCase(1)]
    [TestCase(3)]
    [TestCase(7)]
    [TestCase(64)]
    public void TryReadServerName_CapturedHelloInSegments_Found(int chunkSize)
    {
        var result = ClientHelloParser.TryReadServerName(Segments.Split(CapturedHello, chunkSize), out var name);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(SniParseResult.Found));
            Assert.That(name, Is.EqualTo("example.ulfheim.net"));
        });
    }

    [TestCase(1)] // after the handshake type
    [TestCase(4)] // after the handshake header
    [TestCase(40)] // inside the session id
    [TestCase(110)] // inside the server_name extension
    public void TryReadServerName_HelloSplitAcrossTwoRecords_Found(int splitAt)
    {
        var result = Parse(ClientHelloBuilder.Build("api.example.com", splitAt), out var name);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(SniParseResult.Found));
            Assert.That(name, Is.EqualTo("api.example.com"));
        });
    }

    [Test]
    public void TryReadServerName_ManyRecordsInOneByteSegments_Found()
    {
        var hello = ClientHelloBuilder.Build("api.example.com", 10, 50, 100, 101, 120);
        var result = ClientHelloParser.TryReadServerName(Segments.Split(hello, 1), out var name);
        Assert.Multiple(() =>
        {
            Assert.That(result, Is.EqualTo(SniParseResult.Found));
            Assert.That(name, Is.EqualTo("api.example.com"));
        });
    }

    [Test]
    public void TryReadServerName_EveryPrefixOfTwoRecords_NeedMoreDataUntilComplete()
    {
        var hello = ClientHelloBuilder.Build("api.example.com", 100);
        for (var length = 0; length < hello.Length; length++)
        {
            Assert.That(Parse(hello[..length]), Is.EqualTo(SniParseResult.NeedMoreData), $"prefix of {length} bytes");
        }

        Assert.That(Parse(hello), Is.EqualTo(SniParseResult.Found));
    }

    [Test]
    public void TryReadServerName_SecondRecordNotHandshake_NotTls()
    {
        var hello = ClientHelloBuilder.Build("api.example.com", 100);
        hello[5 + 100] = 0x17;
        Assert.That(Parse(hello), Is.EqualTo(SniParseResult.NotTls));
    }

    [TestCase(0, 0x17, TestName = "TryReadServerName_ApplicationDataRecord_NotTls")]
    [TestCase(1, 0x02, TestName = "TryReadServerName_RecordMajorVersion2_NotTls")]
    [TestCase(2, 0x05, TestName = "TryReadServerName_RecordVersion3_5_NotTls")]
    [TestCase(HandshakeType, 0x02, TestName = "TryReadServerName_ServerHello_NotTls")]
    [TestCase(9, 0x02, TestName = "TryReadServerName_ClientVersion2_NotTls")]
    [TestCase(SessionIdLength, 33, TestName = "TryReadServerName_SessionIdOver32_NotTls")]
    [TestCase(CipherSuitesLength + 1, 0x07, TestName = "TryReadServerName_OddCipherSuitesLength_NotTls")]
    [TestCase(CipherSuitesLength, 0x40, TestName = "TryReadServerName_CipherSuitesOverrunHello_NotTls")]
    [TestCase(ExtensionsLength, 0x40, TestName = "TryReadServerName_ExtensionsOverrunHello_NotTls")]
    [TestCase(FirstExtensionLength, 0x40, TestName = "TryReadServerName_ExtensionOverrunsExtensions_NotTls")]
    public void TryReadServerName_MalformedByte_NotTls(int offset, byte value)
    {
        var hello = ClientHelloBuilder.Build("api.example.com");
        hello[offset] = value;
        Assert.That(Parse(hello), Is.EqualTo(SniParseResult.NotTls));
    }

    [Test]
    public void TryReadServerName_MalformedPrefix_NotTlsBeforeTheRestArrives()
    {
        // A cipher-suites length past the declared hello is rejected from the length alone.
        var hello = ClientHelloBuilder.Build("api.example.com");
        hello[CipherSuitesLength] = 0x40;
        Assert.That(Parse(hello[..(CipherSuitesLength + 2)]), Is.EqualTo(SniParseResult.NotTls));
    }

    [Test]
    public void TryReadServerName_ServerNameListLengthWrong_NotTls()
    {
        var hello = ClientHelloBuilder.Build("api.example.com");
        var sni = IndexOfServerNameExtension(hello);
        ClientHelloBuilder.WriteUInt16(hello, sni + 4, 0x20);
        Assert.That(Parse(hello), Is.EqualTo(SniParseResult.NotTls));
    }

    [Test]
    public void TryReadServerName_HostNameOverrunsList_NotTls()
    {
        var hello = ClientHelloBuilder.Build("api.example.com");
        var sni = IndexOfServerNameExtension(hello);
        ClientHelloBuilder.WriteUInt16(hello, sni + 7, 0x30);
        Assert.That(Parse(hello), Is.EqualTo(SniParseResult.NotTls));
    }

    [Test]
    public void TryReadServerName_NonAsciiHostName_NotTls()
    {
        var hello = ClientHelloBuilder.Build("api.example.com");
        hello[IndexOfServerNameExtension(hello) + 9] = 0xC3;
        Assert.That(Parse(hello), Is.EqualTo(SniParseResult.NotTls));
    }

    [Test]
    public void TryReadServerName_EmptyRecord_NotTls() =>
        Assert.That(Parse([0x16, 0x03, 0x01, 0x00, 0x00]), Is.EqualTo(SniParseResult.NotTls));

    [Test]
    public void TryReadServerName_HandshakeLongerThanCap_NotTls() =>
        Assert.That(Parse([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x00, 0x40, 0x01]), Is.EqualTo(SniParseResult.NotTls));

    [Test]
    public void TryReadServerName_HelloOverCapInSeveralRecords_NotTls()
    {
        // 17 000 bytes of padding, in records small enough to pass the record-length check.
        var handshake = ClientHelloBuilder.BuildHandshake("api.example.com", paddingLength: 17_000);
        var splits = Enumerable.Range(1, handshake.Length / 4096).Select(i => i * 4096).ToArray();
        Assert.That(Parse(ClientHelloBuilder.WrapInRecords(handshake, splits)), Is.EqualTo(SniParseResult.NotTls));
    }

    [Test]
    public void TryReadServerName_HelloNearCap_Found()
    {
        var handshake = ClientHelloBuilder.BuildHandshake("api.example.com", paddingLength: 15_000);
        Assert.That(Parse(ClientHelloBuilder.WrapInRecords(handshake, 8000)), Is.EqualTo(SniParseResult.Found));
    }

    [Test]
    public void TryReadServerName_NoSniOrNotTls_AllocatesNothing()
    {
        var noSni = new ReadOnlySequence<byte>(ClientHelloBuilder.Build(null, 50));
        var notTls = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\n"));
        var partial = Segments.Split(ClientHelloBuilder.Build("api.example.com")[..120], 7);
        Run();
        var before = GC.GetAllocatedBytesForCurrentThread();
        Run();
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero);

        void Run()
        {
            for (var i = 0; i < 100; i++)
            {
                ClientHelloParser.TryReadServerName(noSni, out _);
                ClientHelloParser.TryReadServerName(notTls, out _);
                ClientHelloParser.TryReadServerName(partial, out _);
            }
        }
    }

    [Test]
    public void TryReadServerName_Found_AllocatesOnlyTheName()
    {
        var hello = new ReadOnlySequence<byte>(ClientHelloBuilder.Build("api.example.com"));
        ClientHelloParser.TryReadServerName(hello, out _);
        var before = GC.GetAllocatedBytesForCurrentThread();
        ClientHelloParser.TryReadServerName(hello, out var name);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // A 15-character string: 20-byte header + 2 bytes per char (+ terminator), rounded up.
        Assert.That(allocated, Is.LessThanOrEqualTo(64), $"allocated {allocated} bytes for \"{name}\"");
    }

    private static int IndexOfServerNameExtension(byte[] hello)
    {
        var offset = FirstExtensionLength - 2;
        while (hello[offset] != 0 || hello[offset + 1] != 0)
        {
            offset += 4 + ((hello[offset + 2] << 8) | hello[offset + 3]);
        }

        return offset;
    }
}

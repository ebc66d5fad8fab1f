using System.Diagnostics;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A throwaway CA and a server certificate it signed for <c>IP:127.0.0.1</c>, made with openssl
/// (P-256 keys: quick) in a temporary directory of their own, as PEM files: the server's for
/// etcd's <c>--cert-file</c>/<c>--key-file</c>, the CA's for a client's CaFile. Dispose deletes them.
/// </summary>
internal sealed class TestCertificates : IDisposable
{
    private static readonly TimeSpan StepTimeout = TimeSpan.FromSeconds(10);

    private TestCertificates(string directory)
    {
        Directory = directory;
    }

    public string Directory { get; }

    /// <summary>The CA's certificate (what a client trusts).</summary>
    public string CaFile => Path.Combine(Directory, "ca.pem");

    /// <summary>The server's certificate, signed by the CA, valid for 127.0.0.1 only.</summary>
    public string ServerCertificate => Path.Combine(Directory, "server.pem");

    /// <summary>The server's private key (unencrypted).</summary>
    public string ServerKey => Path.Combine(Directory, "server.key");

    public static async Task<TestCertificates> CreateAsync()
    {
        var certificates = new TestCertificates(System.IO.Directory.CreateTempSubdirectory("fproxy-tls-").FullName);
        try
        {
            await certificates.CreateCaAsync("ca", "FProxy test CA");
            await OpenSslAsync("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", certificates.ServerKey, "-out", certificates.File("server.csr"), "-subj", "/CN=127.0.0.1");
            await System.IO.File.WriteAllTextAsync(
                certificates.File("server.ext"),
                "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\n");
            await OpenSslAsync("x509", "-req", "-in", certificates.File("server.csr"),
                "-CA", certificates.CaFile, "-CAkey", certificates.File("ca.key"), "-set_serial", "2", "-days", "2",
                "-extfile", certificates.File("server.ext"), "-out", certificates.ServerCertificate);
            return certificates;
        }
        catch
        {
            certificates.Dispose();
            throw;
        }
    }

    /// <summary>Another CA, which signed nothing the server has; returns its certificate's path.</summary>
    public async Task<string> CreateOtherCaAsync()
    {
        await CreateCaAsync("other-ca", "Some other CA");
        return File("other-ca.pem");
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Still held; the temp directory is cleaned by the system.
        }
    }

    private Task CreateCaAsync(string name, string commonName) =>
        OpenSslAsync("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", File(name + ".key"), "-out", File(name + ".pem"), "-days", "2", "-subj", "/CN=" + commonName,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");

    private string File(string name) => Path.Combine(Directory, name);

    private static async Task OpenSslAsync(params string[] args)
    {
        var info = new ProcessStartInfo(System.IO.File.Exists("/usr/bin/openssl") ? "/usr/bin/openssl" : "openssl")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(StepTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            Assert.Fail($"openssl {string.Join(' ', args)} did not finish within {StepTimeout.TotalSeconds} s");
        }

        await Task.WhenAll(output, error);
        Assert.That(process.ExitCode, Is.Zero, $"openssl {string.Join(' ', args)}: {await error}");
    }
}

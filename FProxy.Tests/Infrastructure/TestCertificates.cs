using System.Diagnostics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace FProxy.Tests.Infrastructure;

/// <summary>
/// A throwaway CA and a server certificate it signed for <c>IP:127.0.0.1</c> (directly, or through
/// an intermediate CA), made with openssl (P-256 keys: quick) in a temporary directory of their
/// own, as PEM files: the server's for etcd's <c>--cert-file</c>/<c>--key-file</c>, the CA's for
/// a client's CaFile. Dispose deletes them.
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

    /// <summary>Makes the CA and the server's certificate.</summary>
    /// <param name="intermediate">
    /// Whether an intermediate CA between them signs the server's certificate (the server then
    /// sends it along, in <see cref="ServerCertificate"/>; clients trust the root only).
    /// </param>
    /// <param name="extendedKeyUsage">The server certificate's extendedKeyUsage: serverAuth, or clientAuth for one not meant for servers.</param>
    public static async Task<TestCertificates> CreateAsync(bool intermediate = false, string extendedKeyUsage = "serverAuth")
    {
        var certificates = new TestCertificates(System.IO.Directory.CreateTempSubdirectory("fproxy-tls-").FullName);
        try
        {
            await certificates.CreateCaAsync("ca", "FProxy test CA");
            var signer = "ca";
            if (intermediate)
            {
                await certificates.SignAsync("intermediate", "/CN=FProxy test intermediate CA", "ca",
                    "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n", serial: 2);
                signer = "intermediate";
            }

            await certificates.SignAsync("server", "/CN=127.0.0.1", signer,
                $"subjectAltName=IP:127.0.0.1\nextendedKeyUsage={extendedKeyUsage}\nkeyUsage=critical,digitalSignature\n", serial: 3);
            if (intermediate)
            {
                // The chain the server presents: its own certificate, then the intermediate's.
                await System.IO.File.AppendAllTextAsync(certificates.ServerCertificate, await System.IO.File.ReadAllTextAsync(certificates.File("intermediate.pem")));
            }

            return certificates;
        }
        catch
        {
            certificates.Dispose();
            throw;
        }
    }

    /// <summary>Writes a self-signed CA certificate as PEM to <paramref name="path"/> (in process: for options that only need a readable CA file).</summary>
    public static void WriteSelfSignedPem(string path)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=FProxy test file CA", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        System.IO.File.WriteAllText(path, certificate.ExportCertificatePem());
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

    /// <summary>A key and a certificate for <paramref name="subject"/>, signed by the CA named <paramref name="signer"/>: <paramref name="name"/>.key and .pem.</summary>
    private async Task SignAsync(string name, string subject, string signer, string extensions, int serial)
    {
        await OpenSslAsync("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", File(name + ".key"), "-out", File(name + ".csr"), "-subj", subject);
        await System.IO.File.WriteAllTextAsync(File(name + ".ext"), extensions);
        await OpenSslAsync("x509", "-req", "-in", File(name + ".csr"), "-CA", File(signer + ".pem"), "-CAkey", File(signer + ".key"),
            "-set_serial", serial.ToString(System.Globalization.CultureInfo.InvariantCulture), "-days", "2",
            "-extfile", File(name + ".ext"), "-out", File(name + ".pem"));
    }

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

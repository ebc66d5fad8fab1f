using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using dotnet_etcd;
using Etcdserverpb;
using Grpc.Core;
using Grpc.Net.Client;

namespace FProxy.Etcd;

/// <summary>
/// The gRPC channels to an etcd cluster, one per endpoint, of which one is in use: a caller that
/// loses it calls <see cref="Failover"/> and goes on with the next. Holds the auth token when the
/// cluster has users. Shared by the config source, the node report and <c>ftest fleet</c>.
/// </summary>
/// <remarks>
/// HTTP/2 keepalive pings run on every channel (<see cref="EtcdOptions.KeepAliveInterval"/>,
/// <see cref="EtcdOptions.KeepAliveTimeout"/>), also while a watch is idle, so a silent partition
/// fails the watch instead of leaving it waiting forever.
/// </remarks>
public sealed class EtcdConnection : IDisposable
{
    // id-kp-serverAuth: what the system's own validation asks of a server's certificate.
    private static readonly Oid ServerAuthentication = new("1.3.6.1.5.5.7.3.1", "Server Authentication");

    private readonly EtcdOptions _options;
    private readonly Slot[] _endpoints;
    private readonly X509Certificate2Collection? _trusted;
    private int _current;
    private string? _token;
    private string? _certificateProblem;

    /// <summary>Creates the connection; nothing is dialed until the first call.</summary>
    /// <param name="options">Validated options (<see cref="EtcdOptions.Validate"/>).</param>
    /// <exception cref="ArgumentException">The options are invalid; the message lists every problem.</exception>
    public EtcdConnection(EtcdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("invalid etcd options: " + string.Join("; ", errors), nameof(options));
        }

        _options = options;
        if (options.CaFile is { } caFile)
        {
            _trusted = [];
            _trusted.ImportFromPemFile(caFile);
        }

        _endpoints = [.. options.Endpoints.Select(uri => new Slot(uri, CreateChannel(uri)))];
    }

    /// <summary>The endpoint in use now.</summary>
    public Uri Endpoint => _endpoints[Volatile.Read(ref _current)].Uri;

    /// <summary>The dotnet-etcd client on the endpoint in use (reads, writes, transactions, leases).</summary>
    public EtcdClient Client => _endpoints[Volatile.Read(ref _current)].Client;

    /// <summary>The raw watch service on the endpoint in use (one bidirectional stream per watch).</summary>
    public Watch.WatchClient WatchClient => _endpoints[Volatile.Read(ref _current)].Watch;

    /// <summary>The raw lease service on the endpoint in use (keepalive streams).</summary>
    public Lease.LeaseClient LeaseClient => _endpoints[Volatile.Read(ref _current)].Lease;

    /// <summary>The options it was created with.</summary>
    public EtcdOptions Options => _options;

    /// <summary>A deadline for one request, <see cref="EtcdOptions.RequestTimeout"/> from now.</summary>
    public DateTime RequestDeadline => DateTime.UtcNow + _options.RequestTimeout;

    /// <summary>
    /// Moves to the next endpoint (after the last, the first again) and forgets the auth token, so
    /// the next call dials there and signs in again.
    /// </summary>
    /// <param name="failed">The endpoint the caller saw fail; when another caller has moved on already, nothing changes.</param>
    public void Failover(Uri failed)
    {
        var current = Volatile.Read(ref _current);
        if (_endpoints[current].Uri == failed)
        {
            Interlocked.CompareExchange(ref _current, (current + 1) % _endpoints.Length, current);
            Volatile.Write(ref _token, null);
        }
    }

    /// <summary>Forgets the auth token (etcd said it is invalid or expired): the next call signs in again.</summary>
    public void ResetToken() => Volatile.Write(ref _token, null);

    /// <summary>
    /// The headers every call needs: the auth token when the cluster has users (signing in first
    /// when there is none yet), otherwise none.
    /// </summary>
    /// <param name="cancellationToken">Cancels the sign-in.</param>
    /// <returns>The call headers, or null.</returns>
    /// <exception cref="RpcException">etcd refused the user or could not be reached.</exception>
    public async ValueTask<Metadata?> HeadersAsync(CancellationToken cancellationToken)
    {
        if (_options.Username is not { } user)
        {
            return null;
        }

        var token = Volatile.Read(ref _token);
        if (token is null)
        {
            var reply = await Client.AuthenticateAsync(
                new AuthenticateRequest { Name = user, Password = _options.Password ?? string.Empty },
                null,
                RequestDeadline,
                cancellationToken).ConfigureAwait(false);
            token = reply.Token;
            Volatile.Write(ref _token, token);
        }

        return new Metadata { { "token", token } };
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var endpoint in _endpoints)
        {
            endpoint.Channel.Dispose();
        }
    }

    private GrpcChannel CreateChannel(Uri uri)
    {
        var handler = new SocketsHttpHandler
        {
            // One HTTP/2 connection carries the watch, the lease keepalive and every request;
            // pings keep it honest while all of them are quiet.
            KeepAlivePingDelay = _options.KeepAliveInterval,
            KeepAlivePingTimeout = _options.KeepAliveTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            ConnectTimeout = _options.RequestTimeout,
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
        };
        if (_trusted is not null)
        {
            handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = ValidateWithCa };
        }

        return GrpcChannel.ForAddress(uri, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = 64 * 1024 * 1024,
        });
    }

    /// <summary>
    /// The server's chain must end at the configured CA; its name must match as usual, and it
    /// must be meant for servers (a client certificate from the same CA is not).
    /// </summary>
    private bool ValidateWithCa(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if ((errors & ~SslPolicyErrors.RemoteCertificateChainErrors) != 0 || certificate is null)
        {
            return Refuse(certificate is null
                ? "the server sent no certificate"
                : $"the server's certificate ({certificate.Subject}) does not name the host dialed ({errors})");
        }

        using var custom = new X509Chain();
        custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        custom.ChainPolicy.CustomTrustStore.AddRange(_trusted!);
        custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        custom.ChainPolicy.ApplicationPolicy.Add(ServerAuthentication);
        if (chain is not null)
        {
            custom.ChainPolicy.ExtraStore.AddRange(chain.ChainPolicy.ExtraStore);
        }

        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        if (custom.Build(leaf))
        {
            return true;
        }

        var reasons = string.Join(", ", custom.ChainStatus.Select(static s => s.StatusInformation.Trim()).Where(static s => s.Length > 0).Distinct());
        return Refuse($"the server's certificate ({leaf.Subject}) is not trusted by {_options.CaFile}: {reasons}");
    }

    /// <summary>Keeps why a certificate was refused: TLS reports only that the callback said no.</summary>
    private bool Refuse(string reason)
    {
        Volatile.Write(ref _certificateProblem, reason);
        return false;
    }

    /// <summary>
    /// Why the last server certificate was refused, or null; the reason a TLS failure's message
    /// lacks (it says only that the validation callback refused).
    /// </summary>
    public string? CertificateProblem => Volatile.Read(ref _certificateProblem);

    private sealed class Slot(Uri uri, GrpcChannel channel)
    {
        public Uri Uri { get; } = uri;

        public GrpcChannel Channel { get; } = channel;

        public EtcdClient Client { get; } = new(channel.CreateCallInvoker());

        public Watch.WatchClient Watch { get; } = new(channel);

        public Lease.LeaseClient Lease { get; } = new(channel);
    }
}

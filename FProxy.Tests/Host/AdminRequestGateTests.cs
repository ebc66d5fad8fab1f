using FProxy.Host.Admin;
using FProxy.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace FProxy.Tests.Host;

/// <summary>The admin endpoint's first middleware on plain HttpContexts: probes always pass, other work is bounded, connections are marked busy.</summary>
[CancelAfter(10_000)]
public sealed class AdminRequestGateTests
{
    [Test]
    public async Task InvokeAsync_WorkAtItsBound_503ForWorkButProbesPass(CancellationToken ct)
    {
        using var logs = new TestLoggerFactory();
        var time = new FakeTimeProvider();
        var connections = new AdminConnectionLimit(4, logs.CreateLogger("FProxy.Admin"), time);
        var gate = new AdminRequestGate(connections, 1, logs.CreateLogger("FProxy.Admin"), time);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slow = gate.InvokeAsync(Request("/metrics"), _ => release.Task);
        Assert.That(gate.InFlight, Is.EqualTo(1));

        var refused = Request("/apps");
        await gate.InvokeAsync(refused, static _ => Task.CompletedTask).WaitAsync(ct);
        var probes = new[] { Request("/readyz"), Request("/HEALTHZ") };
        foreach (var probe in probes)
        {
            await gate.InvokeAsync(probe, static c => { c.Response.StatusCode = 200; return Task.CompletedTask; }).WaitAsync(ct);
        }

        Assert.Multiple(() =>
        {
            Assert.That(refused.Response.StatusCode, Is.EqualTo(StatusCodes.Status503ServiceUnavailable));
            Assert.That(refused.Response.Headers.Connection.ToString(), Is.EqualTo("close"));
            Assert.That(probes.Select(static p => p.Response.StatusCode), Is.All.EqualTo(200), "probes never wait for work");
            Assert.That(logs.Count(1412), Is.EqualTo(1));
        });

        release.SetResult();
        await slow.WaitAsync(ct);
        Assert.That(gate.InFlight, Is.Zero);
    }

    [Test]
    public async Task InvokeAsync_RequestInProgress_ConnectionIsBusyAndNotClosedToMakeRoom(CancellationToken ct)
    {
        using var logs = new TestLoggerFactory();
        var time = new FakeTimeProvider();
        var connections = new AdminConnectionLimit(1, logs.CreateLogger("FProxy.Admin"), time);
        var gate = new AdminRequestGate(connections, 1, logs.CreateLogger("FProxy.Admin"), time);
        var aborted = false;
        var connection = connections.TryOpen(() => aborted = true)!;
        var context = Request("/events");
        context.Features.Set(connection);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stream = gate.InvokeAsync(context, _ => release.Task);

        Assert.That(connections.TryOpen(static () => { }), Is.Null, "the only connection is busy: refused");
        Assert.That(aborted, Is.False);

        release.SetResult();
        await stream.WaitAsync(ct);
        Assert.That(connections.TryOpen(static () => { }), Is.Not.Null, "idle again, it gives way");
        Assert.That(aborted, Is.True);
    }

    [Test]
    public async Task InvokeAsync_WithAToken_401WithoutItButProbesPass(CancellationToken ct)
    {
        using var logs = new TestLoggerFactory();
        var time = new FakeTimeProvider();
        var connections = new AdminConnectionLimit(4, logs.CreateLogger("FProxy.Admin"), time);
        const string Secret = "0123456789abcdef0123456789abcdef";
        var gate = new AdminRequestGate(connections, 4, logs.CreateLogger("FProxy.Admin"), time, AdminToken.Parse(Secret, "FPROXY_ADMIN_TOKEN"));

        async Task<int> StatusAsync(string path, string? authorization)
        {
            var context = Request(path);
            if (authorization is not null)
            {
                context.Request.Headers.Authorization = authorization;
            }

            await gate.InvokeAsync(context, static c => { c.Response.StatusCode = 200; return Task.CompletedTask; }).WaitAsync(ct);
            if (context.Response.StatusCode == 401)
            {
                Assert.That(context.Response.Headers.WWWAuthenticate.ToString(), Is.EqualTo("Bearer"));
            }

            return context.Response.StatusCode;
        }

        Assert.Multiple(async () =>
        {
            Assert.That(await StatusAsync("/apps", null), Is.EqualTo(401));
            Assert.That(await StatusAsync("/metrics", "Bearer wrong-token-wrong-token"), Is.EqualTo(401));
            Assert.That(await StatusAsync("/events", "Basic " + Secret), Is.EqualTo(401));
            Assert.That(await StatusAsync("/apps", "Bearer " + Secret), Is.EqualTo(200));
            Assert.That(await StatusAsync("/readyz", null), Is.EqualTo(200), "load balancers probe without a token");
            Assert.That(await StatusAsync("/healthz", null), Is.EqualTo(200));
        });
        Assert.That(logs.Count(1417), Is.EqualTo(1), "refusals are logged at most once per interval");
    }

    private static DefaultHttpContext Request(string path)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = HttpMethods.Get;
        context.Request.Path = path;
        return context;
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json;

namespace FProxy.Tests.Host;

/// <summary>HTTP against a host's admin endpoint, as a load balancer or an operator would use it.</summary>
internal sealed class AdminClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly HostProcess _host;

    public AdminClient(HostProcess host)
    {
        _host = host;
        var url = host.AdminUrl ?? throw new InvalidOperationException("the host was started without an admin endpoint (HostProcess.WithAdmin)");

        // Timeouts per request (below), not per client: /events responses are read as they come.
        _http = new HttpClient { BaseAddress = new Uri(url), Timeout = Timeout.InfiniteTimeSpan };
        Port = _http.BaseAddress.Port;
    }

    public int Port { get; }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string path, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        using var response = await _http.GetAsync(path, timeout.Token);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(timeout.Token));
    }

    public async Task<(HttpStatusCode Status, JsonElement Json)> GetJsonAsync(string path, CancellationToken ct)
    {
        var (status, body) = await GetAsync(path, ct);
        using var document = JsonDocument.Parse(body);
        return (status, document.RootElement.Clone());
    }

    /// <summary>Polls <paramref name="path"/> until it answers <paramref name="status"/>; fails with the host's output if it never does, or if the host exits.</summary>
    public async Task<(HttpStatusCode Status, JsonElement Json)> WaitForStatusAsync(
        string path, HttpStatusCode status, TimeSpan timeout, CancellationToken ct)
    {
        var host = _host;
        var clock = Stopwatch.StartNew();
        var last = "no answer yet";
        var delay = 5;
        while (true)
        {
            Assert.That(host.HasExited, Is.False, $"the host exited while waiting for {path} to answer {(int)status}; output:\n{host.Output}");
            try
            {
                var (got, body) = await GetAsync(path, ct);
                last = $"{(int)got} {body}";
                if (got == status)
                {
                    using var document = JsonDocument.Parse(body);
                    return (got, document.RootElement.Clone());
                }
            }
            catch (HttpRequestException e)
            {
                last = e.Message; // Not listening yet.
            }

            if (clock.Elapsed > timeout)
            {
                Assert.Fail($"{path} did not answer {(int)status} within {timeout.TotalSeconds} s; last: {last}; output:\n{host.Output}");
            }

            await Task.Delay(delay, ct);
            delay = Math.Min(delay * 2, 50);
        }
    }

    /// <summary>Opens GET /events (with <paramref name="query"/>, e.g. "?app=a"); returns once the response headers are in.</summary>
    public async Task<EventStreamReader> OpenEventsAsync(string query, CancellationToken ct)
    {
        var stream = await TryOpenEventsAsync(query, ct);
        Assert.That(stream, Is.Not.Null, "/events answered 503");
        return stream!;
    }

    /// <summary>Opens GET /events like <see cref="OpenEventsAsync"/>; null when it answers 503 (the subscriber bound).</summary>
    public async Task<EventStreamReader?> TryOpenEventsAsync(string query, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/events" + query);
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            response.Dispose();
            return null;
        }

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(response.Content.Headers.ContentType?.MediaType, Is.EqualTo("text/event-stream"));
        return new EventStreamReader(response, await response.Content.ReadAsStreamAsync(ct));
    }

    public void Dispose() => _http.Dispose();
}

/// <summary>One server-sent event: its <c>event:</c> type and its <c>data:</c> JSON.</summary>
internal sealed record ServerSentEvent(string Type, JsonElement Data)
{
    public string? App => Data.GetProperty("app").GetString();

    public override string ToString() => $"{Type} {Data}";
}

/// <summary>Reads a text/event-stream response event by event (comment lines are skipped).</summary>
internal sealed class EventStreamReader(HttpResponseMessage response, Stream stream) : IDisposable
{
    private readonly StreamReader _reader = new(stream);

    /// <summary>Every event read so far.</summary>
    public List<ServerSentEvent> Seen { get; } = [];

    /// <summary>The next event, or null at the end of the stream.</summary>
    public async Task<ServerSentEvent?> ReadAsync(CancellationToken ct)
    {
        string? type = null;
        string? data = null;
        while (await _reader.ReadLineAsync(ct) is { } line)
        {
            if (line.Length == 0)
            {
                if (type is not null && data is not null)
                {
                    using var document = JsonDocument.Parse(data);
                    var next = new ServerSentEvent(type, document.RootElement.Clone());
                    Seen.Add(next);
                    return next;
                }

                continue;
            }

            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line["event: ".Length..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                data = line["data: ".Length..];
            }
        }

        return null;
    }

    /// <summary>Reads until an event of <paramref name="type"/> matching <paramref name="match"/> arrives; fails listing what came if the stream ends first.</summary>
    public async Task<ServerSentEvent> WaitForAsync(string type, CancellationToken ct, Func<ServerSentEvent, bool>? match = null)
    {
        while (await ReadAsync(ct) is { } next)
        {
            if (next.Type == type && (match is null || match(next)))
            {
                return next;
            }
        }

        Assert.Fail($"the event stream ended before a {type} event; seen:\n{string.Join("\n", Seen)}");
        throw new InvalidOperationException("unreachable");
    }

    public void Dispose()
    {
        _reader.Dispose();
        response.Dispose();
    }
}

using System.Net;
using System.Net.Sockets;
using System.Text;
using FProxy.Tests.Infrastructure;

namespace FProxy.Tests.Host;

/// <summary>
/// Clients of one proxy port while something happens to the proxy: a new connection every
/// interval, not waiting for the ones before, plus bursts on demand. Each connection sends a line,
/// expects exactly that line echoed, half-closes and expects the end; anything else (refused,
/// reset, a short or wrong echo, no answer within the timeout) is a failure, counted with its reason.
/// </summary>
internal sealed class ConnectionLoad(Func<Socket> newSocket, IPEndPoint target, TimeSpan interval, TimeSpan timeout) : IAsyncDisposable
{
    private readonly List<Task> _running = [];
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private Task _loop = Task.CompletedTask;
    private int _started;
    private int _finished;
    private int _stopped;

    /// <summary>Connections begun so far (the loop's and the bursts').</summary>
    public int Started => Volatile.Read(ref _started);

    /// <summary>Connections that have ended so far, well or not.</summary>
    public int Finished => Volatile.Read(ref _finished);

    /// <summary>Failed connections so far.</summary>
    public int Failures
    {
        get
        {
            lock (_failures)
            {
                return _failures.Values.Sum();
            }
        }
    }

    /// <summary>Why connections failed, "reason: count" each, for messages.</summary>
    public string FailureReasons
    {
        get
        {
            lock (_failures)
            {
                return _failures.Count == 0 ? "none" : string.Join(", ", _failures.Select(static f => $"{f.Key}: {f.Value}"));
            }
        }
    }

    /// <summary>Starts the steady stream of connections.</summary>
    public void Start() => _loop = LoopAsync(_stop.Token);

    /// <summary>
    /// Begins <paramref name="count"/> connections at once: their sockets are made first, so the
    /// connects leave together. Completes when every one has ended.
    /// </summary>
    public Task BurstAsync(int count)
    {
        var sockets = new Socket[count];
        for (var i = 0; i < count; i++)
        {
            sockets[i] = newSocket();
        }

        var connections = new Task[count];
        for (var i = 0; i < count; i++)
        {
            connections[i] = Begin(sockets[i]);
        }

        return Task.WhenAll(connections);
    }

    /// <summary>Stops starting connections and waits for those under way to end.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 1)
        {
            return;
        }

        await _stop.CancelAsync();
        await _loop;
        Task[] running;
        lock (_running)
        {
            running = [.. _running];
        }

        await Task.WhenAll(running);
        _stop.Dispose();
    }

    /// <inheritdoc cref="StopAsync"/>
    public async ValueTask DisposeAsync() => await StopAsync();

    private async Task LoopAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                _ = Begin(newSocket()); // Tracked in _running; StopAsync waits for it.
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    private Task Begin(Socket socket)
    {
        var number = Interlocked.Increment(ref _started);
        var connection = RunAsync(socket, number);
        lock (_running)
        {
            _running.Add(connection);
        }

        return connection;
    }

    private async Task RunAsync(Socket socket, int number)
    {
        // Let the caller go on starting others before this one's first await.
        await Task.Yield();
        var failure = await ExchangeAsync(socket, number);
        if (failure is not null)
        {
            lock (_failures)
            {
                _failures[failure] = _failures.GetValueOrDefault(failure) + 1;
            }
        }

        Interlocked.Increment(ref _finished);
    }

    /// <summary>One connection's exchange; null when it went well, else why not.</summary>
    private async Task<string?> ExchangeAsync(Socket socket, int number)
    {
        using var deadline = new CancellationTokenSource(timeout);
        var step = "connect";
        try
        {
            socket.NoDelay = true;
            await socket.ConnectAsync(target, deadline.Token);
            step = "echo";
            var line = Encoding.ASCII.GetBytes($"connection {number}\n");
            await socket.SendAsync(line, SocketFlags.None, deadline.Token);
            var reply = await Sockets.ReadAsync(socket, line.Length, deadline.Token);
            if (!reply.AsSpan().SequenceEqual(line))
            {
                return $"echo: {reply.Length} of {line.Length} bytes, or different ones";
            }

            step = "end";
            socket.Shutdown(SocketShutdown.Send);
            var end = await Sockets.ReadEndAsync(socket, deadline.Token);
            return end == SocketError.Success ? null : $"end: {end}";
        }
        catch (OperationCanceledException)
        {
            return $"{step}: no answer within {timeout.TotalSeconds} s";
        }
        catch (SocketException e)
        {
            return $"{step}: {e.SocketErrorCode}";
        }
        finally
        {
            socket.Dispose();
        }
    }
}

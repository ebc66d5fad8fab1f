using FProxy.Balancing;
using FProxy.Configuration;
using FProxy.Health;
using FProxy.Tests.Infrastructure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FProxy.Tests.Configuration;

public sealed class FileConfigSubscriberTests
{
    private const int InvalidEvent = 1002;
    private const int UnchangedEvent = 1003;
    private const int MissingEvent = 1004;
    private const int StoppedEvent = 1008;
    private const int StillInvalidEvent = 1009;

    private const int ReloadUnchangedEvent = 1010;

    /// <summary>A config using the custom strategy of <see cref="StickySchema"/>, in another case.</summary>
    private const string StickyJson = """{"Apps":[{"Name":"a","Ports":[5001],"Targets":["localhost:9001"],"Strategy":"sticky"}]}""";

    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>The built-ins plus a custom strategy, as a daemon with a registered "Sticky" strategy would have.</summary>
    private static readonly ConfigSchema StickySchema = new([.. StrategyRegistry.BuiltInNames, "Sticky"], ProbeRegistry.BuiltInNames);

    private string _dir = null!;
    private string _path = null!;
    private TestLogger<FileConfigSubscriber> _logger = null!;

    [SetUp]
    public void SetUp()
    {
        _dir = Directory.CreateTempSubdirectory("fproxy-config-").FullName;
        _path = Path.Combine(_dir, "config.json");
        _logger = new TestLogger<FileConfigSubscriber>();
    }

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    private static string Json(string name, int port) =>
        $$"""{"Apps":[{"Name":"{{name}}","Ports":[{{port}}],"Targets":["localhost:9001"]}]}""";

    private static ProxyConfig Config(string name, int port) => ConfigParser.Parse(Json(name, port));

    private ConfigStream Watch(CancellationToken cancellationToken) =>
        new(new FileConfigSubscriber(_path, _logger), cancellationToken, new RecordingFeedback(_logger));

    private Task WaitForLogAsync(int eventId, int count = 1) =>
        Wait.UntilAsync(() => _logger.Count(eventId) >= count, Deadline, $"log event {eventId}");

    [Test]
    [CancelAfter(30_000)]
    public async Task Reload_UnchangedFile_ReadAgainAndLoggedNothingEmitted(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 7001));
        var subscriber = new FileConfigSubscriber(_path, _logger);
        await using var stream = new ConfigStream(subscriber, cancellationToken, new RecordingFeedback(_logger));
        await stream.NextAsync();

        subscriber.Reload();

        await WaitForLogAsync(ReloadUnchangedEvent);
        File.WriteAllText(_path, Json("a", 7002));
        Assert.That((await stream.NextAsync()).Apps[0].Ports, Is.EqualTo(new[] { 7002 }), "still watching");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task Reload_InvalidFileAlreadyReported_ReportedAgain(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 7001));
        var subscriber = new FileConfigSubscriber(_path, _logger);
        var feedback = new RecordingFeedback(_logger);
        await using var stream = new ConfigStream(subscriber, cancellationToken, feedback);
        await stream.NextAsync();
        File.WriteAllText(_path, """{"Apps":[{"Name":"a","Ports":[70000],"Targets":["localhost:9001"]}]}""");
        await Wait.UntilAsync(() => feedback.Rejections.Count == 1, Deadline, "the first report");

        subscriber.Reload();

        await Wait.UntilAsync(() => feedback.Rejections.Count == 2, Deadline, "reported again on request");
        Assert.That(feedback.Rejections.Last().Errors.Single(), Does.Contain("port 70000 is outside 1..65535"));
    }

    [Test]
    public void Load_MissingFile_ThrowsNotFound()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigFile.Load(_path))!;

        Assert.That(e.Message, Is.EqualTo($"config file \"{_path}\" not found"));
        Assert.That(e.Errors, Is.EqualTo(new[] { e.Message }));
    }

    [Test]
    public void Load_Directory_ThrowsClearError()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigFile.Load(_dir))!;

        Assert.That(e.Message, Is.EqualTo($"config file \"{_dir}\" is a directory"));
    }

    [Test]
    public void Load_InvalidFile_ThrowsWithPathAndEveryProblem()
    {
        File.WriteAllText(_path, """{"Apps":[{"Name":"a","Ports":[0],"Targets":[]}]}""");

        var e = Assert.Throws<ConfigException>(() => ConfigFile.Load(_path))!;

        Assert.That(e.Errors, Has.Count.EqualTo(2));
        Assert.That(e.Message, Does.StartWith(_path + ": 2 errors:"));
    }

    [Test]
    public void Load_ValidFile_ReturnsConfig()
    {
        File.WriteAllText(_path, Json("a", 5001));

        Assert.That(ConfigFile.Load(_path), Is.EqualTo(Config("a", 5001)));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_ExistingFile_FirstYieldsCurrentConfig(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = Watch(cancellationToken);

        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("a", 5001)));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_MissingFile_ThrowsNotFound(CancellationToken cancellationToken)
    {
        var subscriber = new FileConfigSubscriber(_path, NullLogger<FileConfigSubscriber>.Instance);

        var e = Assert.ThrowsAsync<ConfigException>(async () =>
        {
            await foreach (var config in subscriber.WatchAsync(new RecordingFeedback(), cancellationToken))
            {
                Assert.Fail("nothing should be emitted");
            }
        })!;

        Assert.That(e.Message, Is.EqualTo($"config file \"{_path}\" not found"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_MissingDirectory_ThrowsNotFound(CancellationToken cancellationToken)
    {
        var path = Path.Combine(_dir, "nope", "config.json");
        var subscriber = new FileConfigSubscriber(path, NullLogger<FileConfigSubscriber>.Instance);

        var e = Assert.ThrowsAsync<ConfigException>(async () => await subscriber.WatchAsync(new RecordingFeedback(), cancellationToken).GetAsyncEnumerator(cancellationToken).MoveNextAsync())!;

        Assert.That(e.Message, Is.EqualTo($"config file \"{path}\" not found"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_InvalidInitialFile_ThrowsWithEveryProblem(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, """{"Apps":[{"Name":"a","Ports":[70000],"Targets":["x"]}]}""");
        var subscriber = new FileConfigSubscriber(_path, NullLogger<FileConfigSubscriber>.Instance);

        var e = Assert.ThrowsAsync<ConfigException>(async () => await subscriber.WatchAsync(new RecordingFeedback(), cancellationToken).GetAsyncEnumerator(cancellationToken).MoveNextAsync())!;

        Assert.That(e.Errors, Has.Count.EqualTo(2));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_InPlaceWrite_EmitsNewConfig(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = Watch(cancellationToken);
        await stream.NextAsync();

        File.WriteAllText(_path, Json("b", 5002));

        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("b", 5002)));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_WriteTempThenRename_EmitsNewConfig(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = Watch(cancellationToken);
        await stream.NextAsync();

        var temp = Path.Combine(_dir, ".config.json.tmp");
        File.WriteAllText(temp, Json("b", 5002));
        File.Move(temp, _path, overwrite: true);

        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("b", 5002)));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_KubernetesDataSymlinkSwap_EmitsNewConfig(CancellationToken cancellationToken)
    {
        KubernetesVolume.Create(_dir, "..2024_01_01", Json("a", 5001));
        await using var stream = Watch(cancellationToken);
        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("a", 5001)));

        KubernetesVolume.Swap(_dir, "..2024_01_02", Json("b", 5002));

        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("b", 5002)));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_InvalidReload_IsLoggedAndSkippedThenValidOneApplied(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = Watch(cancellationToken);
        await stream.NextAsync();

        File.WriteAllText(_path, """{"Apps":[{"Name":"a","Ports":[70000],"Targets":["x"]}]}""");
        await WaitForLogAsync(InvalidEvent);
        File.WriteAllText(_path, Json("c", 5003));

        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("c", 5003)));
        // An in-place write can be seen half done on a busy machine (an extra "invalid JSON" report
        // before the whole text): the full text's report must be among them, each at Error level.
        var errors = _logger.Entries.Where(e => e.Id.Id == InvalidEvent).ToList();
        Assert.That(errors.Select(e => e.Level), Is.All.EqualTo(LogLevel.Error));
        Assert.That(errors.Select(e => e.Message), Has.Some.Contain("Ports[0]: port 70000 is outside 1..65535")
            .And.Contain("Targets[0]: \"x\" has no port"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_InPlaceWriteSlowerThanTheDebounce_ReadOnceStillNotReportedInvalid(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = Watch(cancellationToken);
        await stream.NextAsync();

        // A writer that keeps writing, a few bytes every 30 ms for about 2 s: longer than the
        // longest debounce (1 s), so the subscriber reads the file half written at least once.
        var text = System.Text.Encoding.UTF8.GetBytes(new string(' ', 200) + Json("slow", 5009) + "\n");
        await using (var file = new FileStream(_path, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite))
        {
            for (var i = 0; i < text.Length; i += 4)
            {
                file.Write(text, i, Math.Min(4, text.Length - i));
                file.Flush();
                await Task.Delay(30, cancellationToken);
            }
        }

        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("slow", 5009)));
        Assert.That(_logger.Count(InvalidEvent), Is.Zero, "a half-written file is not a broken config");
        Assert.That(_logger.Count(1011), Is.GreaterThan(0), "the file was read half-written (else this test proved nothing)");
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_SameInvalidTextSavedAgain_IsReportedOnce(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = Watch(cancellationToken);
        await stream.NextAsync();
        const string invalid = """{"Apps":[{"Name":"a","Ports":[70000],"Targets":["x:1"]}]}""";

        SaveAtomically(invalid);
        await WaitForLogAsync(InvalidEvent);
        SaveAtomically(invalid); // Saved again, unchanged: read, recognised, not reported again.
        await WaitForLogAsync(StillInvalidEvent);
        SaveAtomically(Json("b", 5002));

        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("b", 5002)));
        Assert.That(_logger.Count(InvalidEvent), Is.EqualTo(1));
    }

    private void SaveAtomically(string json)
    {
        var temp = _path + ".tmp";
        File.WriteAllText(temp, json);
        File.Move(temp, _path, overwrite: true);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_UnchangedContent_IsNotEmittedAgain(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = Watch(cancellationToken);
        await stream.NextAsync();

        // Same snapshot, different bytes: the file changed but the config did not.
        File.WriteAllText(_path, "// reformatted\n" + Json("a", 5001) + "\n");
        await WaitForLogAsync(UnchangedEvent);
        File.WriteAllText(_path, Json("b", 5002));

        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("b", 5002)));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_FileMissingForAWhile_RetriesAndAppliesItWhenBack(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = Watch(cancellationToken);
        await stream.NextAsync();

        File.Delete(_path);
        await WaitForLogAsync(MissingEvent);
        File.WriteAllText(_path, Json("b", 5002));

        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("b", 5002)));
        Assert.That(_logger.Entries.Where(e => e.Level >= LogLevel.Error), Is.Empty);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_BurstOfWrites_EmitsTheLastVersion(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = Watch(cancellationToken);
        await stream.NextAsync();

        for (var port = 6000; port <= 6020; port++)
        {
            File.WriteAllText(_path, Json("b", port));
        }

        var last = Config("b", 6020);
        ProxyConfig emitted;
        do
        {
            emitted = await stream.NextAsync();
        }
        while (emitted != last);

        Assert.That(emitted, Is.EqualTo(last));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_StreamDisposed_StopsWatching(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        var stream = Watch(cancellationToken);
        await stream.NextAsync();

        await stream.DisposeAsync();

        Assert.That(_logger.Count(StoppedEvent), Is.EqualTo(1));
    }

    [Test]
    public void Load_CustomSchema_AcceptsItsStrategyThatTheDefaultRejects()
    {
        File.WriteAllText(_path, StickyJson);

        Assert.That(ConfigFile.Load(_path, StickySchema).Apps[0].Strategy, Is.EqualTo("Sticky"));
        var e = Assert.Throws<ConfigException>(() => ConfigFile.Load(_path))!;
        Assert.That(e.Errors, Has.Count.EqualTo(1));
        Assert.That(e.Errors[0], Does.StartWith("Apps[0] \"a\": \"Strategy\": unknown strategy \"sticky\"; valid strategies: RoundRobin,"));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_CustomSchema_AcceptsItsStrategyAtStartAndOnReload(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = new ConfigStream(new FileConfigSubscriber(_path, _logger, schema: StickySchema), cancellationToken, new RecordingFeedback(_logger));
        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("a", 5001)));

        File.WriteAllText(_path, StickyJson);

        var reloaded = await stream.NextAsync();
        Assert.That(reloaded.Apps[0].Strategy, Is.EqualTo("Sticky"));
        Assert.That(_logger.Count(InvalidEvent), Is.Zero);
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_DefaultSchema_RejectsACustomStrategyAtStart(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, StickyJson);
        var subscriber = new FileConfigSubscriber(_path, NullLogger<FileConfigSubscriber>.Instance);

        var e = Assert.ThrowsAsync<ConfigException>(async () => await subscriber.WatchAsync(new RecordingFeedback(), cancellationToken).GetAsyncEnumerator(cancellationToken).MoveNextAsync())!;

        Assert.That(e.Errors, Has.Count.EqualTo(1));
        Assert.That(e.Errors[0], Does.Contain("unknown strategy \"sticky\""));
    }

    [Test]
    [CancelAfter(30_000)]
    public async Task WatchAsync_DefaultSchema_RejectsACustomStrategyOnReload(CancellationToken cancellationToken)
    {
        File.WriteAllText(_path, Json("a", 5001));
        await using var stream = Watch(cancellationToken);
        await stream.NextAsync();

        File.WriteAllText(_path, StickyJson);
        await WaitForLogAsync(InvalidEvent);
        File.WriteAllText(_path, Json("b", 5002));

        Assert.That(await stream.NextAsync(), Is.EqualTo(Config("b", 5002)));
        Assert.That(_logger.Entries.Where(e => e.Id.Id == InvalidEvent).Select(e => e.Message), Has.Some.Contain("unknown strategy \"sticky\""));
    }

    [Test]
    public void Identity_KubernetesSwap_ChangesResolvedPath()
    {
        KubernetesVolume.Create(_dir, "..2024_01_01", Json("a", 5001));
        var before = FileIdentity.Of(_path);

        KubernetesVolume.Swap(_dir, "..2024_01_02", Json("a", 5001));
        var after = FileIdentity.Of(_path);

        Assert.That(before, Is.Not.Null);
        Assert.That(after, Is.Not.Null);
        Assert.That(before!.RealPath, Is.EqualTo(Path.Combine(FileIdentity.ResolveRealPath(_dir)!, "..2024_01_01", "config.json")));
        Assert.That(after!.RealPath, Is.EqualTo(Path.Combine(FileIdentity.ResolveRealPath(_dir)!, "..2024_01_02", "config.json")));
    }

    [Test]
    public void Identity_MissingFile_IsNull()
    {
        Assert.That(FileIdentity.Of(_path), Is.Null);
    }
}

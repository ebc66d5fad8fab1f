using FProxy.FTest.Net;

namespace FProxy.FTest.Reports;

/// <summary>Round-trip results collected from many workers; thread-safe, read by the live display.</summary>
internal sealed class LoadStats
{
    private readonly Lock _lock = new();
    private readonly List<TimeSpan> _dial = [];
    private readonly List<TimeSpan> _response = [];
    private readonly int[] _errors = new int[Failures.All.Length];
    private int _requests;

    public int Requests
    {
        get
        {
            lock (_lock)
            {
                return _requests;
            }
        }
    }

    public void Add(RoundTripResult result)
    {
        lock (_lock)
        {
            _requests++;
            if (result.Failure is { } failure)
            {
                _errors[(int)failure.Kind]++;
                if (result.Dial > TimeSpan.Zero)
                {
                    _dial.Add(result.Dial);
                }

                return;
            }

            _dial.Add(result.Dial);
            _response.Add(result.Response);
        }
    }

    public LoadReport Snapshot(string address, TimeSpan elapsed)
    {
        lock (_lock)
        {
            var errors = Failures.All.ToDictionary(static k => k, k => _errors[(int)k]);
            return new LoadReport(address, _requests, _requests - _errors.Sum(), errors, elapsed, Latency.Of(_dial), Latency.Of(_response));
        }
    }
}

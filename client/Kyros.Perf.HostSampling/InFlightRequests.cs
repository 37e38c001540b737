namespace Kyros.Perf.HostSampling;

/// <summary>The silo's HTTP requests in flight: the queue size its host reports.</summary>
public sealed class InFlightRequests
{
    private int _current;

    public int Current => Volatile.Read(ref _current);

    public void Enter() => Interlocked.Increment(ref _current);

    public void Leave() => Interlocked.Decrement(ref _current);
}

using System.Collections.Concurrent;
using System.Net;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.Silo.Auth;

/// <summary>
/// Failed sign-ins per client address on this silo, in fixed one-minute windows: past
/// <see cref="AuthOptions.SignInAttemptsPerMinute"/> the address is refused until its window ends, so guessing keys
/// through the form is as slow as the limit (a cluster of n silos behind one balancer: n times the limit).
/// </summary>
public sealed class SignInThrottle(IOptions<AuthOptions> options, TimeProvider time)
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    /// <summary>Addresses tracked before expired windows are swept: a flood from many addresses cannot grow it without bound.</summary>
    private const int SweepAbove = 10_000;

    private readonly ConcurrentDictionary<IPAddress, Failures> _failures = new();
    private readonly int _limit = options.Value.SignInAttemptsPerMinute;

    /// <summary>How long <paramref name="address"/> must wait before it may try again; null when it may now.</summary>
    public TimeSpan? WaitFor(IPAddress? address)
    {
        if (!_failures.TryGetValue(Of(address), out var failures)) return null;
        var now = time.GetUtcNow();
        lock (failures)
            return failures.Count >= _limit && now - failures.Start < Window ? failures.Start + Window - now : null;
    }

    public void Failed(IPAddress? address)
    {
        var now = time.GetUtcNow();
        if (_failures.Count > SweepAbove)
            foreach (var (ip, old) in _failures)
                if (now - old.Start >= Window) _failures.TryRemove(ip, out _);
        var failures = _failures.GetOrAdd(Of(address), _ => new Failures { Start = now });
        lock (failures)
        {
            if (now - failures.Start >= Window) (failures.Start, failures.Count) = (now, 0);
            failures.Count++;
        }
    }

    private static IPAddress Of(IPAddress? address) => address is null ? IPAddress.None : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    private sealed class Failures
    {
        public DateTimeOffset Start;
        public int Count;
    }
}

using Kyros.Perf.Common;
using Kyros.Perf.Stats;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kyros.Perf.Durability;

/// <summary>One thing to put back on this silo when Redis lost the cluster's data; run in registration order.</summary>
public interface IRedisLossRepair
{
    string Name { get; }

    /// <summary>Writes back what this silo holds under the new epoch; throws when it could not (tried again at the next check).</summary>
    Task RepairAsync(string epoch, CancellationToken cancellationToken);
}

/// <summary>What the silo knows of Redis's epoch, as /healthz shows it.</summary>
public sealed record RedisEpochStatus(string? Epoch, bool Repairing, DateTimeOffset? LostAt, DateTimeOffset? RepairedAt, string? LastError);

/// <summary>
/// Tells whether Redis came back empty or was replaced, and has this silo repair what it holds. The cluster keeps one
/// marker in Redis, <c>{prefix}:epoch</c>, a random value written once: a Redis that restarts with its data (AOF), or a
/// replica promoted by Sentinel, still has it; one that lost its data (no persistence, <c>FLUSHALL</c>, a new server)
/// does not. A silo reads it every <see cref="RedisDurabilityOptions.EpochCheckInterval"/>, and at once when a write
/// finds the marker of its model gone (<see cref="Suspect"/>). On a loss the first silo to see it writes a new epoch, and
/// every silo writes back what it holds (<see cref="IRedisLossRepair"/>: the membership table's rows, then every live
/// grain's state). Until a grain has written back, its record writes are refused (503), so nothing is acknowledged
/// that a silo's death could lose.
/// </summary>
public sealed class RedisEpoch(
    IConnectionMultiplexer redis,
    IEnumerable<IRedisLossRepair> repairs,
    IOptions<RecentRecordLogOptions> log,
    IOptions<RedisDurabilityOptions> options,
    TimeProvider time,
    ILogger<RedisEpoch> logger) : BackgroundService, IStoreEpoch
{
    private readonly RedisKey _key = $"{log.Value.KeyPrefix}:epoch";
    private TaskCompletionSource _wake = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _reading = new(1, 1);
    private volatile string? _epoch;
    private volatile string? _repairFor;
    private DateTimeOffset? _lostAt;
    private DateTimeOffset? _repairedAt;
    private string? _lastError;

    /// <summary>The epoch this silo last read; null before the first read.</summary>
    public string? Known => _epoch;

    public RedisEpochStatus Status => new(_epoch, _repairFor is not null, _lostAt, _repairedAt, _lastError);

    /// <summary>The current epoch: read (or, on an empty Redis, written) once, then what the checks keep up to date.</summary>
    public async ValueTask<string> CurrentAsync() => _epoch ?? await ReadAsync();

    /// <summary>A write found a sign that Redis lost its data: check now rather than at the next interval.</summary>
    public void Suspect() => _wake.TrySetResult();

    /// <summary>
    /// Reads the marker, writing a new one when it is gone; when it differs from what this silo knew, starts a repair
    /// under the new one. Returns the epoch now in force.
    /// </summary>
    public async Task<string> ReadAsync()
    {
        await _reading.WaitAsync();
        try
        {
            var db = redis.GetDatabase();
            var current = (string?)await db.StringGetAsync(_key);
            if (current is null)
            {
                await db.StringSetAsync(_key, Guid.NewGuid().ToString("N"), when: When.NotExists);
                current = (string?)await db.StringGetAsync(_key) ?? throw new KyrosUnavailableException("Redis did not keep the cluster's epoch marker.");
            }
            var previous = _epoch;
            _epoch = current;
            if (previous is not null && previous != current)
            {
                _lostAt = time.GetUtcNow();
                _repairFor = current;
                Suspect();
                logger.LogError("Redis came back without the cluster's data (epoch {Previous} is gone, now {Current}): this silo writes back what it holds; record writes answer 503 until each grain has",
                    previous[..8], current[..8]);
            }
            return current;
        }
        finally
        {
            _reading.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ReadAsync();
                if (_repairFor is { } epoch) await RepairAsync(epoch, stoppingToken);
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                // Redis down or hung: the writes answer 503 on their own; the check comes again.
                _lastError = exception.GetBaseException().Message;
                logger.LogDebug(exception, "Redis epoch check failed");
            }
            var wake = _wake.Task;
            await Task.WhenAny(wake, Task.Delay(options.Value.EpochCheckInterval, time, stoppingToken));
            if (wake.IsCompleted) _wake = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private async Task RepairAsync(string epoch, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        foreach (var repair in repairs)
        {
            try
            {
                await repair.RepairAsync(epoch, cancellationToken);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                _lastError = $"{repair.Name}: {exception.GetBaseException().Message}";
                logger.LogWarning(exception, "Writing back after Redis lost its data: {Repair} failed; tried again at the next check", repair.Name);
                return;
            }
        }
        // Only when no newer loss came meanwhile: that one repairs again.
        if (Interlocked.CompareExchange(ref _repairFor, null, epoch) == epoch)
        {
            _repairedAt = time.GetUtcNow();
            _lastError = null;
            logger.LogWarning("Written back after Redis lost its data: epoch {Epoch} holds what this silo held ({Seconds:0.00} s)", epoch[..8],
                time.GetElapsedTime(started).TotalSeconds);
        }
    }
}

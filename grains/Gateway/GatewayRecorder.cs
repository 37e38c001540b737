using System.Diagnostics;
using System.Threading.Channels;
using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Stats;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Kyros.Perf.Gateway;

/// <summary>
/// Records every gateway call in its model's statistics. An answered generation is recorded on the answer's path
/// (<see cref="RecordAnsweredAsync"/>) before its caller gets the last bytes, so it survives a kill of the silo that
/// answered; failed attempts, and an answer whose record could not be written in time, go to a queue written off the
/// response path: one batch per model, retried while the cluster does not answer, and drained at shutdown.
/// </summary>
public sealed class GatewayRecorder(IGrainFactory grains, TimeProvider time, ILogger<GatewayRecorder> logger) : BackgroundService
{
    private const int MaxBatch = 1_000;
    private const int MaxTries = 20;
    private readonly Channel<ModelPerformanceRecord> _queue = Channel.CreateUnbounded<ModelPerformanceRecord>(new() { SingleReader = true });

    /// <summary>How long an answer waits for its record to be durable before it goes on and the record is queued instead.</summary>
    public static readonly TimeSpan AnsweredRecordWait = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Writes an answered generation's record through its model's grain (whose group commit puts concurrent generations'
    /// records in one append), so it is in the recent-record log before the caller has the whole answer. When the
    /// cluster or the store does not acknowledge it within <see cref="AnsweredRecordWait"/>, the record is queued: the
    /// answer is never held back long, nor failed, for its statistics.
    /// </summary>
    public async Task RecordAnsweredAsync(ModelPerformanceRecord record)
    {
        if (!Storable(record)) return;
        using var activity = KyrosTelemetry.Recording.StartActivity("record");
        activity?.SetTag("kyros.model", record.Model);
        activity?.SetTag("kyros.request_id", record.RequestId);
        try
        {
            await grains.GetGrain<IModelStatsGrain>(record.Model).RecordAsync(record).WaitAsync(AnsweredRecordWait, time);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or KyrosUnavailableException)
        {
            // The queue's batch carries the same request id: a write that went through after all counts once.
            logger.LogWarning("Recording an answered generation for {Model} was not acknowledged in time; queued: {Reason}", record.Model, e.Message);
            activity?.SetTag("kyros.queued", true);
            _queue.Writer.TryWrite(record);
        }
    }

    public void Enqueue(ModelPerformanceRecord record)
    {
        if (Storable(record)) _queue.Writer.TryWrite(record);
    }

    /// <summary>
    /// A provider call that failed, in the gateway's terms: classified, marked on its span, listed in
    /// <paramref name="attempts"/> and queued as a failed record (its request id suffixed by the attempt's number).
    /// </summary>
    public ProviderException RecordFailedAttempt(Exception error, ProviderCall call, TimeSpan timeoutInForce, double elapsedSeconds, double? ttftSeconds,
        Activity? span, List<Attempt> attempts)
    {
        var failure = ProviderErrors.Classify(error, call.Model, timeoutInForce, time.GetUtcNow());
        span?.SetStatus(ActivityStatusCode.Error, failure.Message);
        span?.SetTag("error.type", failure.ErrorKind);
        attempts.Add(new Attempt(call.Model.Id, false, failure.ErrorKind, failure.Message, elapsedSeconds, failure.RetryAfter?.TotalSeconds));
        Enqueue(new ModelPerformanceRecord(call.Model.Id, null, call.StartedAt, elapsedSeconds, ttftSeconds, call.InputTokens, 0, false, failure.ErrorKind, 0, null,
            $"{call.RequestId}.a{attempts.Count}"));
        return failure;
    }

    /// <summary>A record that fails validation cannot be stored anyway: it is logged and left out, so it sinks no batch.</summary>
    private bool Storable(ModelPerformanceRecord record)
    {
        try
        {
            RecordValidator.Validate(record, time.GetUtcNow());
            return true;
        }
        catch (ArgumentException e)
        {
            logger.LogError("A gateway record for {Model} cannot be stored: {Reason}", record.Model, e.Message);
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
                await WriteBatchAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        while (await WriteBatchAsync(CancellationToken.None)) { }
    }

    /// <summary>Writes what has queued, up to a batch; false when nothing had. A batch in hand is finished even while stopping.</summary>
    private async Task<bool> WriteBatchAsync(CancellationToken stoppingToken)
    {
        var batch = new List<ModelPerformanceRecord>();
        while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var record)) batch.Add(record);
        foreach (var group in batch.GroupBy(r => r.Model))
        {
            var records = group.ToArray();
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await grains.GetGrain<IModelStatsGrain>(group.Key).RecordBatchAsync(records);
                    break;
                }
                catch (Exception e) when (e is OrleansException or TimeoutException or KyrosUnavailableException && attempt < MaxTries)
                {
                    logger.LogWarning("Recording {Count} gateway records for {Model} failed (try {Attempt}): {Reason}", records.Length, group.Key, attempt, e.Message);
                    await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt), time, stoppingToken.IsCancellationRequested ? CancellationToken.None : stoppingToken)
                        .ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                }
                catch (Exception e)
                {
                    logger.LogError(e, "Dropping {Count} gateway records for {Model}", records.Length, group.Key);
                    break;
                }
            }
        }
        return batch.Count > 0;
    }
}

/// <summary>One call to one model, as its records name it: the model, when it started, its input tokens and its request id.</summary>
public readonly record struct ProviderCall(ModelDescriptor Model, DateTimeOffset StartedAt, long InputTokens, string RequestId);

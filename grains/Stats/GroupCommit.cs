
namespace Kyros.Perf.Stats;

/// <summary>
/// Group commit inside one grain activation: callers that arrive while a log write is in flight are
/// written together by the next one. Runs on the grain's scheduler, so it needs no locks.
/// </summary>
public sealed class GroupCommit(
    Func<IReadOnlyList<ModelPerformanceRecord>, ValueTask<long[]>> append,
    Action<ModelPerformanceRecord, long> apply,
    int maxGroupRecords)
{
    private List<Pending> _queue = [];
    private bool _writing;

    public Task<RecordResult> SubmitAsync(IReadOnlyList<ModelPerformanceRecord> records)
    {
        var pending = new Pending(records, new TaskCompletionSource<RecordResult>());
        _queue.Add(pending);
        if (!_writing) _ = DrainAsync();
        return pending.Done.Task;
    }

    private async Task DrainAsync()
    {
        _writing = true;
        try
        {
            while (_queue.Count > 0)
            {
                var group = TakeGroup();
                var records = group.Count == 1 ? group[0].Records : group.SelectMany(p => p.Records).ToArray();
                long[] positions;
                try
                {
                    positions = await append(records);
                }
                catch (Exception exception)
                {
                    foreach (var pending in group) pending.Done.TrySetException(exception);
                    continue;
                }
                var offset = 0;
                foreach (var pending in group)
                {
                    var first = offset;
                    offset += pending.Records.Count;
                    try
                    {
                        var recorded = 0;
                        for (var i = first; i < offset; i++)
                        {
                            if (positions[i] == 0) continue;
                            apply(records[i], positions[i]);
                            recorded++;
                        }
                        pending.Done.TrySetResult(new RecordResult(recorded, pending.Records.Count - recorded));
                    }
                    catch (Exception exception)
                    {
                        // Validated records do not fail to apply; should one, its caller hears of it instead of waiting forever.
                        pending.Done.TrySetException(exception);
                    }
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }

    private List<Pending> TakeGroup()
    {
        var taken = 0;
        var count = 0;
        while (taken < _queue.Count && (taken == 0 || count + _queue[taken].Records.Count <= maxGroupRecords))
            count += _queue[taken++].Records.Count;
        var group = _queue.GetRange(0, taken);
        _queue.RemoveRange(0, taken);
        return group;
    }

    private sealed record Pending(IReadOnlyList<ModelPerformanceRecord> Records, TaskCompletionSource<RecordResult> Done);
}

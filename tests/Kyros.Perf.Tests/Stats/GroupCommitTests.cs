using Kyros.Perf.Stats;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Stats;

public sealed class GroupCommitTests
{
    [Fact]
    public async Task Callers_arriving_during_a_write_share_the_next_one()
    {
        var writes = new List<int>();
        var gate = new TaskCompletionSource();
        var applied = new List<long>();
        long next = 0;
        var seen = new HashSet<string>();
        var commit = new GroupCommit(async records =>
        {
            writes.Add(records.Count);
            if (writes.Count == 1) await gate.Task;
            return records.Select(r => seen.Add(r.RequestId) ? ++next : 0).ToArray();
        }, (_, position) => applied.Add(position), maxGroupRecords: 100);

        var first = commit.SubmitAsync([Records.Valid()]);
        var duplicate = Records.Valid();
        var second = commit.SubmitAsync([duplicate, Records.Valid()]);
        var third = commit.SubmitAsync([duplicate]);
        Assert.False(first.IsCompleted);
        gate.SetResult();

        Assert.Equal(new RecordResult(1, 0), await first);
        Assert.Equal(new RecordResult(2, 0), await second);
        Assert.Equal(new RecordResult(0, 1), await third);
        Assert.Equal([1, 3], writes);
        Assert.Equal([1, 2, 3], applied);
    }

    [Fact]
    public async Task A_failed_write_fails_its_callers_and_applies_nothing()
    {
        var applied = 0;
        var commit = new GroupCommit(_ => ValueTask.FromException<long[]>(new TimeoutException("log down")), (_, _) => applied++, 100);
        await Assert.ThrowsAsync<TimeoutException>(() => commit.SubmitAsync([Records.Valid()]));
        Assert.Equal(0, applied);
    }
}

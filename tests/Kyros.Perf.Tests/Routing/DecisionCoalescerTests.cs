using Kyros.Perf.Client;
using Kyros.Perf.Routing;

namespace Kyros.Perf.Tests.Routing;

/// <summary>How the SDK coalesces overlapping routing calls, on a router whose answers the test releases by hand.</summary>
public sealed class DecisionCoalescerTests
{
    [Fact]
    public async Task A_lone_call_goes_at_once_and_alone()
    {
        var router = new HeldRouter();
        var coalescer = new DecisionCoalescer(router, maxInFlight: 2, maxBatch: 10);
        var call = coalescer.DecideAsync(Request("a"));
        router.ReleaseSingle();
        Assert.Equal("a", (await call).SelectedModel);
        Assert.Equal(["a"], router.Singles);
        Assert.Empty(router.Batches);
    }

    [Fact]
    public async Task Calls_that_overlap_leave_together_each_with_its_own_answer()
    {
        var router = new HeldRouter();
        var coalescer = new DecisionCoalescer(router, maxInFlight: 1, maxBatch: 2);
        var first = coalescer.DecideAsync(Request("a"));
        var waiting = new[] { "b", "refused", "c" }.Select(m => coalescer.DecideAsync(Request(m))).ToArray();
        Assert.Equal(["a"], router.Singles);
        Assert.Empty(router.Batches);

        // The first answer frees the one call allowed: the waiting requests go in batches of at most two, in order;
        // the one left over goes alone.
        router.ReleaseSingle();
        await first;
        Assert.Equal("b", (await waiting[0]).SelectedModel);
        var refused = await Assert.ThrowsAsync<NoCandidateException>(() => waiting[1]);
        Assert.Equal("refused", refused.Rejected.Single().Model);
        Assert.Equal([["b", "refused"]], router.Batches);
        Assert.Equal(["a", "c"], router.Singles);
        router.ReleaseSingle();
        Assert.Equal("c", (await waiting[2]).SelectedModel);
    }

    [Fact]
    public async Task A_failed_call_fails_its_batch_only()
    {
        var router = new HeldRouter { FailBatches = true };
        var coalescer = new DecisionCoalescer(router, maxInFlight: 1, maxBatch: 10);
        var first = coalescer.DecideAsync(Request("a"));
        var batch = new[] { coalescer.DecideAsync(Request("b")), coalescer.DecideAsync(Request("c")) };
        router.ReleaseSingle();
        await first;
        foreach (var call in batch) await Assert.ThrowsAsync<TimeoutException>(() => call);

        router.FailBatches = false;
        var later = coalescer.DecideAsync(Request("d"));
        router.ReleaseSingle();
        Assert.Equal("d", (await later).SelectedModel);
    }

    [Theory]
    [InlineData(-1, 64, "RoutingCallsInFlight")]
    [InlineData(4, 0, "RoutingBatchSize")]
    [InlineData(4, 1_001, "RoutingBatchSize")]
    public void Bad_coalescing_settings_are_refused_at_registration(int inFlight, int batchSize, string setting)
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        var error = Assert.Throws<ArgumentException>(() => services.AddKyrosPerfClient(o =>
        {
            o.RoutingCallsInFlight = inFlight;
            o.RoutingBatchSize = batchSize;
        }));
        Assert.Equal(setting, error.ParamName);
    }

    private static RoutingRequest Request(string model) => new(new RequestFeatures(), [model]);

    private static RoutingDecision Decision(string model) =>
        new($"dec_{model}", model, RoutingStrategy.Balanced, 1, "test", RoutingWeights.For(RoutingStrategy.Balanced), [], [], [], 0, 0, 0);

    /// <summary>Single calls wait for the test to release them; batches answer at once, refusing the model named "refused".</summary>
    private sealed class HeldRouter : IRouterGrain
    {
        private readonly Queue<TaskCompletionSource<RoutingDecision>> _held = new();

        public List<string> Singles { get; } = [];
        public List<string[]> Batches { get; } = [];
        public bool FailBatches { get; set; }

        public void ReleaseSingle()
        {
            TaskCompletionSource<RoutingDecision> next;
            string model;
            lock (_held) (next, model) = (_held.Dequeue(), Singles[^1]);
            next.SetResult(Decision(model));
        }

        public Task<RoutingDecision> SelectModelAsync(RoutingRequest request)
        {
            var answer = new TaskCompletionSource<RoutingDecision>();
            lock (_held)
            {
                Singles.Add(request.Candidates![0]);
                _held.Enqueue(answer);
            }
            return answer.Task;
        }

        public Task<RoutingOutcome[]> SelectModelsAsync(RoutingRequest[] requests)
        {
            var models = requests.Select(r => r.Candidates![0]).ToArray();
            lock (_held) Batches.Add(models);
            if (FailBatches) return Task.FromException<RoutingOutcome[]>(new TimeoutException("the router did not answer"));
            return Task.FromResult(models.Select(m => m == "refused"
                ? new RoutingOutcome(null, new NoCandidateException("none", [new RejectedCandidate(m, "test")], temporary: false))
                : new RoutingOutcome(Decision(m), null)).ToArray());
        }

        public Task<IReadOnlyList<RoutingDecision>> GetRecommendationsAsync(RoutingRequest request, int topN) => throw new NotSupportedException();
        public Task SettleAsync(string model, long reservedTokens, long actualTokens) => throw new NotSupportedException();
        public Task<RouterState> GetStateAsync() => throw new NotSupportedException();
    }
}

using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Kyros.Perf.Gateway;
using Kyros.Perf.Resources;
using Kyros.Perf.Routing;

namespace Kyros.Perf.Client;

/// <summary>What the demo drives: its pace and how long.</summary>
public sealed record DemoSettings
{
    /// <summary>Generations started per second across the catalog's simulated models.</summary>
    public double GenerationsPerSecond { get; init; } = 4;
    /// <summary>How often the simulated hosts report (and the heating one warms).</summary>
    public TimeSpan SampleInterval { get; init; } = TimeSpan.FromSeconds(2);
    /// <summary>One heat cycle of the hot host: it warms for two thirds of it (raising GPU alerts), then cools.</summary>
    public TimeSpan HeatCycle { get; init; } = TimeSpan.FromMinutes(3);
    public int? Seed { get; init; }

    public void Validate()
    {
        if (!(GenerationsPerSecond is > 0 and <= 1_000)) throw new ArgumentOutOfRangeException(nameof(GenerationsPerSecond), GenerationsPerSecond, "rate must be above 0 and at most 1000 per second.");
        if (SampleInterval < TimeSpan.FromMilliseconds(100)) throw new ArgumentOutOfRangeException(nameof(SampleInterval), SampleInterval, "the sample interval must be at least 100 ms.");
        if (HeatCycle < TimeSpan.FromSeconds(10)) throw new ArgumentOutOfRangeException(nameof(HeatCycle), HeatCycle, "the heat cycle must be at least 10 s.");
    }
}

/// <summary>What the demo has done so far.</summary>
public sealed record DemoProgress(long Generations, long Failures, long Feedback, long Samples, IReadOnlyList<string> Models);

/// <summary>
/// Simulated traffic for a first look: generations (embeddings for an embedding model) through the gateway to every
/// model on the <c>simulated</c> provider (named and routed, with the simulated providers' own errors), quality feedback on a share of the answers,
/// and two simulated GPU hosts in the group <see cref="HostGroup"/>, one of which heats up and cools down in cycles
/// and so raises and clears alerts. Only simulated models are called: the demo never spends a real provider's tokens.
/// </summary>
public sealed class DemoTraffic(KyrosPerfClient client, TimeProvider time)
{
    public const string HostGroup = "simulated-demo";
    public static readonly IReadOnlyList<string> Hosts = ["demo-gpu-hot", "demo-gpu-steady"];

    private static readonly string[] Prompts =
    [
        "Summarise the last quarter's latency incidents in three bullet points.",
        "Write a Python function that merges two sorted lists.",
        "Translate 'the cache is warm' into French and German.",
        "Explain what a p99 latency is to a new engineer.",
        "Draft a short status update: the GPU pool is running hot.",
        "Review this SQL: SELECT * FROM requests WHERE latency > 2;",
    ];

    private static readonly RoutingStrategy[] Strategies = Enum.GetValues<RoutingStrategy>();
    private long _generations, _failures, _feedback, _samples;
    private IReadOnlyList<string> _models = [];

    public DemoProgress Progress => new(Interlocked.Read(ref _generations), Interlocked.Read(ref _failures), Interlocked.Read(ref _feedback), Interlocked.Read(ref _samples), _models);

    /// <summary>Runs until cancelled. A generation that fails (the simulated models fail now and then) is counted, not thrown.</summary>
    public async Task RunAsync(DemoSettings settings, CancellationToken cancellationToken)
    {
        settings.Validate();
        var random = settings.Seed is { } seed ? new Random(seed) : new Random();
        var started = time.GetUtcNow();
        var hosts = Task.Run(() => SampleHostsAsync(settings, started, cancellationToken), cancellationToken);
        var inFlight = new List<Task>();
        var interval = TimeSpan.FromSeconds(1 / settings.GenerationsPerSecond);
        var catalogReadAt = DateTimeOffset.MinValue;
        IReadOnlyList<ModelDescriptor> models = [];
        try
        {
            for (var i = 0L; !cancellationToken.IsCancellationRequested; i++)
            {
                // The catalog may change while the demo runs: read it again now and then.
                if (time.GetUtcNow() - catalogReadAt > TimeSpan.FromSeconds(30))
                {
                    models = (await client.GetModelsAsync()).Where(m => m.Provider == "simulated").ToArray();
                    _models = models.Select(m => m.Id).ToArray();
                    catalogReadAt = time.GetUtcNow();
                }
                inFlight.RemoveAll(t => t.IsCompleted);
                if (models.Count > 0 && inFlight.Count < 64) inFlight.Add(GenerateAsync(models, i, random.Next(), cancellationToken));
                await Task.Delay(interval, time, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        await Task.WhenAll(inFlight.Append(hosts).Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
    }

    private async Task GenerateAsync(IReadOnlyList<ModelDescriptor> models, long index, int draw, CancellationToken cancellationToken)
    {
        var random = new Random(draw);
        // Every other request names a model in turn, so that each one has figures; the rest are routed.
        var named = index % 2 == 0 ? models[(int)(index / 2 % models.Count)] : null;
        var request = new GenerateRequest
        {
            Prompt = Prompts[random.Next(Prompts.Length)],
            Model = named?.Id,
            Strategy = Strategies[random.Next(Strategies.Length)],
            MaxTokens = 32 + random.Next(96),
        };
        try
        {
            // An embedding model embeds the prompt instead: a call to a model all the same, counted as one.
            if (named is { Kind: ModelKinds.Embedding })
            {
                await client.EmbedAsync(new EmbedRequest { Inputs = [request.Prompt!], Model = named.Id }).WaitAsync(cancellationToken);
                Interlocked.Increment(ref _generations);
                return;
            }
            var result = await client.GenerateAsync(request).WaitAsync(cancellationToken);
            Interlocked.Increment(ref _generations);
            if (random.NextDouble() < 0.4)
            {
                // Feedback near the model's quality prior, so that the quality figures differ by model.
                var prior = models.FirstOrDefault(m => m.Id == result.Model)?.QualityPrior ?? 0.7;
                var score = Math.Clamp(prior + (random.NextDouble() - 0.5) * 0.3, 0, 1);
                if (await client.FeedbackAsync(result.RequestId, Math.Round(score, 3))) Interlocked.Increment(ref _feedback);
            }
        }
        catch (Exception e) when (e is GenerationFailedException or NoCandidateException or KyrosUnavailableException or ArgumentException)
        {
            Interlocked.Increment(ref _failures);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task SampleHostsAsync(DemoSettings settings, DateTimeOffset started, CancellationToken cancellationToken)
    {
        var random = new Random(settings.Seed ?? Environment.TickCount);
        while (!cancellationToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var heat = Heat(now - started, settings.HeatCycle);
            try
            {
                await client.PushSamplesAsync(Hosts[0], [Sample(Hosts[0], now, 55 + 40 * heat, 60 + 35 * heat, random)]);
                await client.PushSamplesAsync(Hosts[1], [Sample(Hosts[1], now, 35, 55, random)]);
                Interlocked.Add(ref _samples, 2);
            }
            catch (Exception e) when (e is KyrosUnavailableException or ArgumentException)
            {
                // The cluster was away for a moment: the next sample tries again.
            }
            try
            {
                await Task.Delay(settings.SampleInterval, time, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>0 (cool) to 1 (hot): a ramp up over two thirds of the cycle, a fall over the last third.</summary>
    public static double Heat(TimeSpan elapsed, TimeSpan cycle)
    {
        var phase = elapsed.TotalSeconds % cycle.TotalSeconds / cycle.TotalSeconds;
        return phase < 2.0 / 3 ? phase * 1.5 : (1 - phase) * 3;
    }

    private static ResourceSample Sample(string node, DateTimeOffset at, double gpuUtilization, double gpuTemperature, Random random)
    {
        double Jitter(double value, double spread) => Math.Clamp(value + (random.NextDouble() - 0.5) * spread, 0, 100);
        const long gpuMemory = 80L << 30, memory = 256L << 30;
        var memoryPercent = Jitter(45 + gpuUtilization * 0.2, 3);
        return new ResourceSample
        {
            Node = node,
            Group = HostGroup,
            Timestamp = at,
            CpuPercent = Jitter(gpuUtilization * 0.6, 6),
            MemoryPercent = memoryPercent,
            MemoryUsedBytes = (long)(memoryPercent / 100 * memory),
            MemoryTotalBytes = memory,
            Disks = [new DiskSample("/", 400L << 30, 1L << 40)],
            Networks = [new NetworkSample("eth0", Jitter(gpuUtilization, 10) * 1e6, Jitter(gpuUtilization, 10) * 4e5, 1.25e9)],
            Gpus = [new GpuSample(0, "Simulated H100", Jitter(gpuUtilization, 4), (long)(gpuMemory * Jitter(gpuUtilization, 4) / 100), gpuMemory, Jitter(gpuTemperature, 2), 300 + 4 * gpuUtilization)],
        };
    }
}

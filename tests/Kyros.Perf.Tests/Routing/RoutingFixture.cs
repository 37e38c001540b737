using Kyros.Perf.Catalog;
using Kyros.Perf.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Kyros.Perf.Tests.Routing;

/// <summary>A router engine on a catalog and a statistics snapshot the test sets by hand, on a fake clock.</summary>
public sealed class RoutingFixture
{
    public RoutingFixture(IEnumerable<ModelDescriptor>? models = null, RoutingOptions? options = null)
    {
        Options = options ?? new RoutingOptions();
        Catalog = new ModelCatalog(Microsoft.Extensions.Options.Options.Create(new ModelCatalogOptions { Models = (models ?? DefaultCatalog.Create()).ToList() }));
        Health = new ModelHealthBook(Options);
        Snapshot = new RoutingSnapshot(null!, Catalog, Health, Microsoft.Extensions.Options.Options.Create(Options), Time, NullLogger<RoutingSnapshot>.Instance);
        Engine = new RoutingEngine(Catalog, Snapshot, Health, Limits, Microsoft.Extensions.Options.Options.Create(Options), Time);
    }

    public ModelCatalog Catalog { get; }
    public FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));
    public RoutingOptions Options { get; }
    public ModelHealthBook Health { get; }
    public RoutingSnapshot Snapshot { get; }
    public RateLimiter Limits { get; } = new();
    public RoutingEngine Engine { get; }

    /// <summary>Draws that always admit a probed model (0) or never do (0.99).</summary>
    public static readonly Func<double> Admit = () => 0;
    public static readonly Func<double> Refuse = () => 0.99;

    public RoutingDecision Decide(RoutingStrategy strategy, RequestFeatures? features = null, IReadOnlyList<string>? candidates = null, Func<double>? draw = null) =>
        Engine.Decide(new RoutingRequest(features ?? new RequestFeatures { EstimatedTokens = 1000 }, candidates, strategy), draw ?? Refuse);

    public ModelRoutingStats Stats(string model, long samples, double p95, double errorRate = 0.01, double? quality = null,
        int consecutiveFailures = 0, long successes = 0, long? ttftSamples = null) =>
        new(model, samples, p95, p95 / 4, errorRate, null, quality, quality is null ? 0 : samples, consecutiveFailures, successes, Time.GetUtcNow(),
            ttftSamples ?? samples);

    public static ModelDescriptor Model(string id, double latency, double quality, double inputPrice, double outputPrice,
        bool vision = true, int context = 100_000, int? rpm = null, long? tpm = null) => new()
    {
        Id = id,
        Capabilities = new ModelCapabilities { Vision = vision, Code = true, Tools = true, Reasoning = 0.8, Creativity = 0.8 },
        InputPricePer1k = inputPrice,
        OutputPricePer1k = outputPrice,
        ContextWindow = context,
        LatencyPrior = latency,
        QualityPrior = quality,
        RequestsPerMinute = rpm,
        TokensPerMinute = tpm,
    };
}

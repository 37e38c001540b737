using Kyros.Perf.Catalog;
using Kyros.Perf.Common;
using Orleans.Concurrency;

namespace Kyros.Perf.Stats;

/// <summary>Fans out to every catalog model and merges their aggregates exactly (sketches, not averages of percentiles).</summary>
[StatelessWorker]
public sealed class PerformanceSummaryGrain(ModelCatalog catalog, TimeProvider time) : Grain, IPerformanceSummaryGrain
{
    public const string ClusterName = "cluster";

    public async Task<ClusterSummary> GetClusterSummaryAsync(TimeSpan window)
    {
        TimeWindow.Validate(window);
        var catalogModels = catalog.Models;
        var aggregates = await Task.WhenAll(catalogModels.Select(m => GrainFactory.GetGrain<IModelStatsGrain>(m.Id).GetAggregateAsync(window)));
        var now = time.GetUtcNow();
        var start = TimeWindow.StartAt(now, window);
        var label = TimeWindow.Format(window);
        var cluster = new MetricsAggregate();
        var models = new List<ModelSummary>(aggregates.Length);
        for (var i = 0; i < aggregates.Length; i++)
        {
            cluster.Merge(aggregates[i]);
            models.Add(ModelSummary.Create(catalogModels[i].Id, label, start, now, aggregates[i]));
        }
        return new ClusterSummary(label, models, ModelSummary.Create(ClusterName, label, start, now, cluster));
    }
}

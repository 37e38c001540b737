using System.Text.RegularExpressions;
using Kyros.Perf.Common;

namespace Kyros.Perf.Stats;

/// <summary>
/// Records a batch that may span models: one grain call per model, in parallel. A grain's error about
/// <c>[k].field</c> of its share is reported against the record's index in the whole batch.
/// </summary>
public static partial class ModelBatches
{
    public static async Task<RecordResult> RecordAsync(IGrainFactory grains, IReadOnlyList<ModelPerformanceRecord> records)
    {
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < records.Count; i++)
        {
            if (!groups.TryGetValue(records[i].Model, out var indices)) groups[records[i].Model] = indices = [];
            indices.Add(i);
        }
        if (groups.Count == 1) return await grains.GetGrain<IModelStatsGrain>(records[0].Model).RecordBatchAsync(records);

        var results = await Task.WhenAll(groups.Select(async group =>
        {
            var share = group.Value.Select(i => records[i]).ToArray();
            try
            {
                return await grains.GetGrain<IModelStatsGrain>(group.Key).RecordBatchAsync(share);
            }
            catch (ArgumentException exception)
            {
                throw ToBatchIndex(exception, group.Value);
            }
        }));
        return results.Aggregate(RecordResult.None, (sum, r) => sum.Add(r));
    }

    /// <summary>Renames <c>[k].field</c> to <c>[indices[k]].field</c> in the field and the message.</summary>
    public static ArgumentException ToBatchIndex(ArgumentException exception, IReadOnlyList<int> indices)
    {
        var field = ArgumentErrors.FieldOf(exception);
        if (field is null || IndexPrefix().Match(field) is not { Success: true } match) return ArgumentErrors.Restore(exception);
        var local = int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        if (local >= indices.Count) return ArgumentErrors.Restore(exception);
        var original = $"[{indices[local]}]";
        return new ArgumentException(ArgumentErrors.DetailOf(exception).Replace(match.Value, original), original + field[match.Length..], exception);
    }

    [GeneratedRegex(@"^\[(\d+)\]")]
    private static partial Regex IndexPrefix();
}

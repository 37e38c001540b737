using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>
/// Writers as an operator's clients behave: each posts batches of 10 records with unique request ids to the silos in
/// turn, and tries a failed batch again (after its <c>Retry-After</c>) with the same ids. They count what was
/// acknowledged, every answer by status with its time, and the longest gap between two acknowledged writes.
/// </summary>
public sealed class RecordWriters(IReadOnlyList<string> silos, IReadOnlyList<string> models, int writers = 6)
{
    private readonly ConcurrentDictionary<string, long> _acknowledged = new();
    private readonly ConcurrentQueue<(HttpStatusCode Status, TimeSpan Took, string? RetryAfter, string Body, TimeSpan At)> _answers = new();
    private readonly ConcurrentQueue<(string Model, TimeSpan At)> _acknowledgedAt = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public long Acknowledged => _acknowledged.Values.Sum();
    public IReadOnlyDictionary<string, long> AcknowledgedByModel => _acknowledged;
    /// <summary>Every answer: its status, how long it took, its <c>Retry-After</c> and body, and when it was asked (on <see cref="Elapsed"/>'s clock).</summary>
    public IReadOnlyList<(HttpStatusCode Status, TimeSpan Took, string? RetryAfter, string Body, TimeSpan At)> Answers => [.. _answers];

    /// <summary>The writers' clock: the time since they were created.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>The longest time without an acknowledged write of <paramref name="model"/> (of any model when null), from the first to the last.</summary>
    public TimeSpan LongestGap(string? model = null) => LongestGapOf(_acknowledgedAt.Where(a => model is null || a.Model == model).Select(a => a.At));

    /// <summary>The longest time between two of <paramref name="acknowledged"/>, in any order.</summary>
    public static TimeSpan LongestGapOf(IEnumerable<TimeSpan> acknowledged)
    {
        var times = acknowledged.Order().ToArray();
        return times.Length < 2 ? TimeSpan.Zero : times.Zip(times.Skip(1), (a, b) => b - a).Max();
    }

    public async Task RunAsync(CancellationToken stop)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        await Task.WhenAll(Enumerable.Range(0, writers).Select(w => WriteAsync(http, w, stop)));
    }

    private async Task WriteAsync(HttpClient http, int writer, CancellationToken stop)
    {
        var model = models[writer % models.Count];
        for (var batch = 0; !stop.IsCancellationRequested; batch++)
        {
            var body = "[" + string.Join(",", Enumerable.Range(0, 10).Select(i =>
                $$"""{"model": "{{model}}", "timestamp": "{{DateTimeOffset.UtcNow:O}}", "execution_time": 0.5, "input_tokens": 10, "output_tokens": 20, "success": true, "cost": 0.001, "request_id": "w{{writer}}-b{{batch}}-r{{i}}"}""")) + "]";
            for (var attempt = 0; !stop.IsCancellationRequested; attempt++)
            {
                var silo = silos[(writer + batch + attempt) % silos.Count];
                var started = _clock.Elapsed;
                HttpStatusCode status;
                string? retryAfter = null;
                string answer;
                try
                {
                    using var response = await http.PostAsync($"{silo}/v1/performance/records", new StringContent(body, Encoding.UTF8, "application/json"));
                    status = response.StatusCode;
                    retryAfter = response.Headers.RetryAfter?.ToString();
                    answer = await response.Content.ReadAsStringAsync();
                }
                catch (HttpRequestException exception)
                {
                    // The silo this writer asked is gone (killed): the next try goes to another.
                    status = 0;
                    answer = exception.Message;
                }
                _answers.Enqueue((status, _clock.Elapsed - started, retryAfter, answer, started));
                if (status == HttpStatusCode.OK)
                {
                    _acknowledged.AddOrUpdate(model, 10, (_, n) => n + 10);
                    _acknowledgedAt.Enqueue((model, _clock.Elapsed));
                    break;
                }
                await Task.Delay(status == HttpStatusCode.ServiceUnavailable ? TimeSpan.FromSeconds(1) : TimeSpan.FromMilliseconds(100), CancellationToken.None);
            }
        }
    }

    /// <summary>What a silo counts for each model over the last hour.</summary>
    public static async Task<long> CountAsync(string silo, string model)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        return (await http.GetFromJsonAsync<JsonElement>($"{silo}/v1/performance/models/{model}?window=1h")).GetProperty("count").GetInt64();
    }
}

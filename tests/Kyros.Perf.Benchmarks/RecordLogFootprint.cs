using System.Globalization;
using Kyros.Perf.Gateway;
using Kyros.Perf.Stats;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kyros.Perf.Benchmarks;

/// <summary>
/// What one retained record of the recent-record log costs: in this process (the embedded log) and in Redis (the stream
/// entry and its request id in the dedupe hash). Records as the gateway writes them: its request ids, an instance, TTFT.
/// </summary>
public static class RecordLogFootprint
{
    private const int Models = 10;
    private const int PerModel = 50_000;

    public static async Task<IReadOnlyList<string>> RunAsync()
    {
        var rows = new List<string>();
        var time = TimeProvider.System;
        var options = Options.Create(new RecentRecordLogOptions());
        var holder = new InMemoryRecentRecordLog[] { new(options, time) };
        var records = Enumerable.Range(0, Models).Select(m => Gateway($"model-{m}", time.GetUtcNow())).ToArray();
        var before = GC.GetTotalMemory(forceFullCollection: true);
        foreach (var (model, batch) in records) await holder[0].AppendAsync(model, batch);
        var with = GC.GetTotalMemory(forceFullCollection: true);
        GC.KeepAlive(holder);
        var perRecord = (double)(with - before) / (Models * PerModel);
        rows.Add(string.Create(CultureInfo.InvariantCulture, $"| silo memory (embedded log), gateway records | {perRecord:0} bytes | at most 100 bytes |"));

        var work = Directory.CreateTempSubdirectory("kyros-bench-log-").FullName;
        var port = ChildProcess.FreePort();
        await using var redis = ChildProcess.Start("redis", "redis-server", ["--port", $"{port}", "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", work]);
        var connection = await ConnectAsync($"127.0.0.1:{port}");
        var log = new RedisRecentRecordLog(connection, Options.Create(new RecentRecordLogOptions { KeyPrefix = "bench" }));
        var (redisModel, redisBatch) = Gateway("gpt-4", DateTimeOffset.UtcNow, count: 20_000);
        foreach (var chunk in redisBatch.Chunk(1_000)) await log.AppendAsync(redisModel, chunk);
        var db = connection.GetDatabase();
        var stream = (long)await db.ExecuteAsync("MEMORY", "USAGE", "bench:records:{gpt-4}:log", "SAMPLES", "0");
        var ids = (long)await db.ExecuteAsync("MEMORY", "USAGE", "bench:records:{gpt-4}:ids", "SAMPLES", "0");
        rows.Add(string.Create(CultureInfo.InvariantCulture, $"| Redis, stream entry (request id and packed record) | {(double)stream / redisBatch.Length:0} bytes | |"));
        rows.Add(string.Create(CultureInfo.InvariantCulture, $"| Redis, request id in the dedupe hash | {(double)ids / redisBatch.Length:0} bytes | |"));
        await connection.DisposeAsync();
        return rows;
    }

    private static (string Model, ModelPerformanceRecord[] Records) Gateway(string model, DateTimeOffset now, int count = PerModel)
    {
        var random = new Random(model.GetHashCode(StringComparison.Ordinal));
        var records = new ModelPerformanceRecord[count];
        for (var i = 0; i < count; i++)
        {
            var at = now.AddMilliseconds(-count + i);
            var latency = 0.2 + random.NextDouble() * 3;
            records[i] = new ModelPerformanceRecord(model, "simulated", at, latency, latency / 5, 40 + random.Next(400), 100 + random.Next(600),
                i % 50 != 0, i % 50 == 0 ? "timeout" : null, random.NextDouble() / 100, null, RequestIds.Create(model, at));
        }
        return (model, records);
    }

    private static async Task<ConnectionMultiplexer> ConnectAsync(string endpoint)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await ConnectionMultiplexer.ConnectAsync(endpoint + "");
            }
            catch (RedisConnectionException) when (attempt < 50)
            {
                await Task.Delay(100);
            }
        }
    }
}

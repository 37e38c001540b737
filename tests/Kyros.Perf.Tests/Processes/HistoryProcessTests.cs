using System.Net.Http.Json;
using System.Text.Json;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Kyros.Perf.Tests.Processes;

/// <summary>
/// History across hosts: two silo processes, each with a SQLite file of its own (a pod's volume), answer every model's
/// history alike, and alike again after a rolling update that gives each pod its file back.
/// </summary>
public sealed class HistoryProcessTests(RedisServer redis)
{
    [Fact]
    public async Task Every_silo_answers_every_models_history_alike_though_each_host_holds_only_its_own_file_and_the_same_after_a_rolling_update()
    {
        var serviceId = $"hist-{Guid.NewGuid():N}"[..16];
        string[] settings = ["--Kyros:ModelStats:CheckpointInterval=00:00:01"];
        string[] names = ["host-a", "host-b"];
        var volumes = names.Select(name => Directory.CreateTempSubdirectory($"kyros-{name}-").FullName).ToArray();
        var silos = await Task.WhenAll(names.Select((name, i) => SiloProcess.StartAsync(redis.ConnectionString, serviceId, name, volumes[i], settings)));
        try
        {
            using var host = await ClientHost.StartAsync(redis.ConnectionString, serviceId);
            var client = host.Services.GetRequiredService<Kyros.Perf.Client.KyrosPerfClient>();
            string[] models = ["gpt-4", "gpt-3.5-turbo", "claude", "gemini-pro", "local-llama"];
            var now = DateTimeOffset.UtcNow;
            foreach (var (model, i) in models.Select((m, i) => (m, i)))
                await client.RecordBatchAsync([.. Enumerable.Range(0, 10 + i).Select(r => Records.Valid(model, 1 + r * 0.1, now.AddSeconds(-r)))]);
            // Each model's minutes are in the file of the host that holds its grain, and only there: the other host
            // answers by asking that host's shard.

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            var before = new Dictionary<string, string>();
            foreach (var (model, i) in models.Select((m, i) => (m, i)))
            {
                var answers = new List<string>();
                foreach (var silo in silos)
                {
                    var history = await Eventually.UntilAsync(
                        () => http.GetFromJsonAsync<JsonElement>($"{silo.HttpUrl}/v1/performance/models/{model}/history?resolution=1m"),
                        h => h.GetProperty("total").GetProperty("count").GetInt64() == 10 + i);
                    answers.Add(history.GetProperty("points").GetRawText());
                }
                Assert.Equal(answers[0], answers[1]);
                before[model] = answers[0];
            }

            // A rolling update as a StatefulSet does it: one pod at a time stopped (SIGTERM) and started again on its volume.
            for (var i = 0; i < silos.Length; i++)
            {
                Assert.True(await silos[i].StopGracefullyAsync(TimeSpan.FromSeconds(40)), $"{names[i]} left within its shutdown timeout");
                await silos[i].DisposeAsync();
                silos[i] = await SiloProcess.StartAsync(redis.ConnectionString, serviceId, names[i], volumes[i], settings);
            }
            foreach (var model in models)
                foreach (var silo in silos)
                    Assert.Equal(before[model], (await http.GetFromJsonAsync<JsonElement>($"{silo.HttpUrl}/v1/performance/models/{model}/history?resolution=1m")).GetProperty("points").GetRawText());
            await host.StopAsync();
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }
}

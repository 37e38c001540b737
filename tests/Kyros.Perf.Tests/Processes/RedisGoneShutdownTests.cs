using System.Diagnostics;
using System.Text;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Processes;

/// <summary>An orchestrator stopping a silo while its Redis is gone: the silo must not hang past its shutdown timeout.</summary>
[Collection(FaultsCollection.Name)]
public sealed class RedisGoneShutdownTests(ITestOutputHelper output)
{
    private static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_silo_sent_SIGTERM_while_redis_is_gone_exits_within_its_shutdown_timeout()
    {
        var redis = new RedisServer();
        await redis.InitializeAsync();
        Assert.SkipUnless(redis.IsOwn, "KYROS_TEST_REDIS is set: this test needs a redis-server of its own to kill.");
        // The connection as an operator writes it: the silo's StoreTimeout (2 s) applies.
        var connection = redis.ConnectionString.Split(',')[0];
        var serviceId = $"gone-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-gone-").FullName;
        var silo = await SiloProcess.StartAsync(connection, serviceId, "silo-a", data, $"--Kyros:ShutdownTimeout={ShutdownTimeout:c}");
        var redisStopped = false;
        try
        {
            // Grains active with records their checkpoints do not hold yet: deactivation will try to write them.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            foreach (var model in new[] { "gpt-4", "claude", "gemini-pro" })
            {
                var body = $$"""[{"model": "{{model}}", "timestamp": "{{DateTimeOffset.UtcNow:O}}", "execution_time": 0.5, "success": true, "request_id": "{{Guid.NewGuid():N}}"}]""";
                using var response = await http.PostAsync($"{silo.HttpUrl}/v1/performance/records", new StringContent(body, Encoding.UTF8, "application/json"));
                Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            }

            await redis.DisposeAsync();
            redisStopped = true;
            var stopping = Stopwatch.StartNew();
            var exited = await silo.StopGracefullyAsync(ShutdownTimeout + TimeSpan.FromSeconds(20));
            output.WriteLine($"SIGTERM with Redis gone: exited {exited} after {stopping.Elapsed.TotalSeconds:0.0} s (shutdown timeout {ShutdownTimeout.TotalSeconds:0} s), exit code {(exited ? silo.ExitCode : -1)}");
            if (!exited || stopping.Elapsed > ShutdownTimeout + TimeSpan.FromSeconds(3))
                foreach (var line in silo.Log.TakeLast(60)) output.WriteLine(line);
            Assert.True(exited, "the silo did not exit");
            // The host's timeout plus the runtime's own exit: a few seconds at most.
            Assert.True(stopping.Elapsed < ShutdownTimeout + TimeSpan.FromSeconds(3), $"the silo took {stopping.Elapsed.TotalSeconds:0.0} s to exit");
            // It could not leave the cluster: it says so with its own code, not 0.
            Assert.Equal(Kyros.Perf.Silo.ShutdownDeadline.ExitCode, silo.ExitCode);
        }
        finally
        {
            await silo.DisposeAsync();
            if (!redisStopped) await redis.DisposeAsync();
        }
    }
}

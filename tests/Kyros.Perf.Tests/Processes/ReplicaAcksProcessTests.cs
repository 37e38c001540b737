using System.Net;
using System.Text;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Processes;

/// <summary>A silo told to wait for a replica that its Redis does not have: it says so at start, and its writes answer 503, not 500.</summary>
[Collection(FaultsCollection.Name)]
public sealed class ReplicaAcksProcessTests(RedisServer redis)
{
    [Fact]
    public async Task A_silo_asked_for_a_replica_that_redis_lacks_warns_at_start_and_answers_writes_with_503_and_retry_after()
    {
        var serviceId = $"acks-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-acks-").FullName;
        await using var silo = await SiloProcess.StartAsync(redis.ConnectionString, serviceId, "silo-a", data,
            "--Kyros:Redis:ReplicaAcks=1", "--Kyros:Redis:ReplicaAckTimeout=00:00:00.2");

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var body = $$"""[{"model": "gpt-4", "timestamp": "{{DateTimeOffset.UtcNow:O}}", "execution_time": 0.5, "success": true, "request_id": "{{Guid.NewGuid():N}}"}]""";
        using var response = await http.PostAsync($"{silo.HttpUrl}/v1/performance/records", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("1", response.Headers.RetryAfter?.ToString());
        Assert.Contains("replicas", await response.Content.ReadAsStringAsync());

        // The start-up check runs off the start's path: its warning comes within moments.
        await Eventually.UntilAsync(() => Task.FromResult(silo.Log), log => log.Any(l => l.Contains("Kyros:Redis:ReplicaAcks is 1, but the Redis primary has 0 replicas connected")));
    }
}

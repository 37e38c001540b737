using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Kyros.Perf.Alerts;
using Kyros.Perf.Resources;
using Kyros.Perf.Tests.Infrastructure;

namespace Kyros.Perf.Tests.Notifications;

/// <summary>
/// Webhook notifications from a real cluster to a real local receiver: every transition, in order, each delivered once,
/// through a target that is down for a while and through the death of the silo that was sending.
/// </summary>
public sealed class NotificationDeliveryTests(RedisServer redis)
{
    // Pushed CPU samples, 5 s apart: critical raised (88, 90), emergency (97, 98), resolved (40, 40).
    private static readonly double[] Raise = [50, 88, 90], EscalateAndResolve = [97, 98, 40, 40];

    private static readonly string[] Transitions = ["raised", "escalated", "resolved"];

    private static string TransitionOf(ReceivedPost post) =>
        post.Body.GetProperty("alerts")[0].GetProperty("annotations").GetProperty("transition").GetString()!;

    private static bool IsAbout(ReceivedPost post, string host) =>
        post.Body.GetProperty("commonLabels").TryGetProperty("host", out var h) && h.GetString() == host && TransitionOf(post) != "notice";

    private static ResourceSample[] Samples(string host, DateTimeOffset start, IEnumerable<double> cpu) =>
        [.. cpu.Select((c, i) => new ResourceSample { Node = host, Timestamp = start.AddSeconds(5 * i), CpuPercent = c, Group = "edge" })];

    [Fact]
    public async Task A_target_down_and_then_up_gets_every_transition_afterwards_in_order_each_once_and_a_filtered_target_only_its_own()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var host = $"nd-{Guid.NewGuid():N}"[..12];
        var refused = 0;
        // The silo samples its own host too: only this test's host's posts are refused.
        receiver.Answer = (post, _) => Task.FromResult(post.Path == "/hook" && IsAbout(post, host) && Interlocked.Increment(ref refused) <= 4 ? 503 : 200);
        await using var cluster = await KyrosTestCluster.StartAsync(redis, silos: 1, settings: new Dictionary<string, string?>
        {
            ["Kyros:Notifications:Webhooks:0:Name"] = "hook",
            ["Kyros:Notifications:Webhooks:0:Url"] = $"{receiver.Url}/hook",
            ["Kyros:Notifications:Webhooks:1:Name"] = "emergencies",
            ["Kyros:Notifications:Webhooks:1:Url"] = $"{receiver.Url}/emergencies",
            ["Kyros:Notifications:Webhooks:1:MinimumLevel"] = "emergency",
            ["Kyros:Notifications:Webhooks:1:Subjects:0"] = "host",
            ["Kyros:Notifications:PumpInterval"] = "00:00:00.050",
            ["Kyros:Notifications:RetryBaseDelay"] = "00:00:00.050",
            ["Kyros:Notifications:MaxRetryDelay"] = "00:00:00.400",
        });
        await cluster.Client.PushSamplesAsync(host, Samples(host, DateTimeOffset.UtcNow.AddMinutes(-2), [.. Raise, .. EscalateAndResolve]));

        await Eventually.UntilAsync(() => Task.FromResult(receiver.Posts.Count(p => p.Delivered && IsAbout(p, host))), n => n >= 5);
        var hook = receiver.Posts.Where(p => p.Path == "/hook" && IsAbout(p, host)).ToArray();
        var delivered = hook.Where(p => p.Delivered).ToArray();
        Assert.Equal(Transitions, delivered.Select(TransitionOf));
        Assert.Equal(3, delivered.Select(p => p.IdempotencyKey).Distinct().Count());
        Assert.All(delivered, p => Assert.Equal(p.IdempotencyKey, p.Body.GetProperty("idempotencyKey").GetString()));
        // While down, the target was offered the first transition alone, again and again under its one key.
        var refusals = hook.Where(p => p.Status == 503).ToArray();
        Assert.Equal(4, refusals.Length);
        Assert.All(refusals, p => Assert.Equal(delivered[0].IdempotencyKey, p.IdempotencyKey));
        Assert.Equal([1, 2, 3, 4, 5], hook.Where(p => p.IdempotencyKey == delivered[0].IdempotencyKey).Select(p => p.Attempt));
        Assert.Equal(["firing", "firing", "resolved"], delivered.Select(p => p.Body.GetProperty("status").GetString()));

        // The emergencies-only target heard the emergency fire and resolve, and nothing of the critical level.
        var emergencies = receiver.Posts.Where(p => p.Path == "/emergencies" && IsAbout(p, host)).ToArray();
        Assert.Equal([("escalated", "firing"), ("resolved", "resolved")], emergencies.Select(p => (TransitionOf(p), p.Body.GetProperty("status").GetString())));
        Assert.All(emergencies.SelectMany(p => p.Body.GetProperty("alerts").EnumerateArray()),
            a => Assert.Equal("emergency", a.GetProperty("labels").GetProperty("severity").GetString()));

        // Every post the receiver answered is counted sent (the silo's own host may have alerts of its own on the way).
        var status = await Eventually.UntilAsync(() => cluster.Client.GetNotificationTargetsAsync(),
            t => t.Single(s => s.Name == "hook") is { Queued: 0 } hookStatus && hookStatus.Sent == receiver.Posts.Count(p => p.Path == "/hook" && p.Delivered));
        var target = status.Single(s => s.Name == "hook");
        Assert.Equal((NotificationKinds.Webhook, 4L, 0, "HTTP 503 ServiceUnavailable", (DateTimeOffset?)null),
            (target.Kind, target.Failed, target.HeadAttempts, target.LastError, target.NextTryAt));
    }

    [Fact]
    public async Task Three_silos_one_killed_mid_send_deliver_each_transition_once_and_the_interrupted_post_again_under_its_key()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var host = $"nd-{Guid.NewGuid():N}"[..12];
        var held = 0;
        // The first post of this test's host is held until its sender goes away; everything else is taken at once.
        receiver.Answer = async (post, aborted) =>
        {
            if (IsAbout(post, host) && Interlocked.Increment(ref held) == 1) await Task.Delay(Timeout.Infinite, aborted);
            return 200;
        };
        var serviceId = $"notify-{Guid.NewGuid():N}"[..16];
        var data = Directory.CreateTempSubdirectory("kyros-notify-").FullName;
        string[] settings =
        [
            "--Kyros:Notifications:Webhooks:0:Name=hook", $"--Kyros:Notifications:Webhooks:0:Url={receiver.Url}/hook",
            "--Kyros:Notifications:PumpInterval=00:00:00.050", "--Kyros:Notifications:RetryBaseDelay=00:00:00.100",
            "--Kyros:Notifications:MaxRetryDelay=00:00:01", "--Kyros:Notifications:WakeInterval=00:00:00.500",
        ];
        var silos = await Task.WhenAll(new[] { "nd-a", "nd-b", "nd-c" }.Select(name => SiloProcess.StartAsync(redis.ConnectionString, serviceId, name, data, settings)));
        try
        {
            var start = DateTimeOffset.UtcNow.AddMinutes(-2);
            await PushAsync(silos[0], host, Samples(host, start, Raise));
            using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
                while (!IsAbout(await receiver.Arrivals.ReadAsync(timeout.Token), host)) { }

            // The post is on the wire: the silo sending it dies.
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var sender = (await TargetsAsync(http, silos[0])).EnumerateArray().Single().GetProperty("silo").GetString();
            var killed = silos.Single(s => s.Name == sender);
            killed.KillHard();
            var survivors = silos.Where(s => s != killed).ToArray();
            await Eventually.UntilAsync(() => Task.FromResult(receiver.Posts.First(p => IsAbout(p, host)).Interrupted), interrupted => interrupted);

            // A pushed host hands its events to the log with its next samples: these wait until the log serves again.
            await Eventually.UntilAsync(async () => (await http.GetAsync($"{survivors[0].HttpUrl}/v1/resources/alerts?node={host}")).IsSuccessStatusCode, ok => ok,
                TimeSpan.FromSeconds(60));
            await PushAsync(survivors[0], host, Samples(host, start.AddSeconds(5 * Raise.Length), EscalateAndResolve));
            try
            {
                await Eventually.UntilAsync(() => Task.FromResult(receiver.Posts.Count(p => p.Delivered && IsAbout(p, host))), n => n >= 3, TimeSpan.FromSeconds(60));
            }
            catch (Exception e)
            {
                var seen = receiver.Posts.Select(p => $"{(IsAbout(p, host) ? TransitionOf(p) : "other")} {p.Status} try {p.Attempt} {p.Interrupted}");
                var status = await TargetsAsync(http, survivors[1]);
                throw new InvalidOperationException($"posts: {string.Join(", ", seen)}; status {status}; log: {string.Join(" | ", survivors.SelectMany(s => s.Log.TakeLast(8)))}", e);
            }

            // Raw posts, no dedupe: each transition delivered once; the interrupted one sent again under its key, as try 2.
            var posts = receiver.Posts.Where(p => IsAbout(p, host)).ToArray();
            var delivered = posts.Where(p => p.Delivered).ToArray();
            Assert.Equal(Transitions, delivered.Select(TransitionOf));
            Assert.All(delivered.GroupBy(p => p.IdempotencyKey), g => Assert.Single(g));
            var interrupted = Assert.Single(posts, p => p.Interrupted);
            Assert.Equal(interrupted.IdempotencyKey, delivered[0].IdempotencyKey);
            Assert.Equal((1, 2), (interrupted.Attempt, delivered[0].Attempt));
            Assert.Equal(4, posts.Length);

            // What the API, the metrics and every silo say of it, without the target's URL.
            var targets = await Eventually.UntilAsync(() => TargetsAsync(http, survivors[1]),
                t => t[0].GetProperty("queued").GetInt32() == 0 && t[0].GetProperty("sent").GetInt32() == receiver.Posts.Count(p => p.Delivered));
            var target = targets[0];
            var sent = target.GetProperty("sent").GetInt32();
            Assert.Equal(("hook", "webhook", sent, 0), (target.GetProperty("name").GetString(), target.GetProperty("kind").GetString(), target.GetProperty("sent").GetInt32(),
                target.GetProperty("head_attempts").GetInt32()));
            Assert.DoesNotContain(new Uri(receiver.Url).Port.ToString(), targets.GetRawText());
            // The silos' own hosts may raise alerts meanwhile: the counter is at least what was read.
            var metrics = (await http.GetStringAsync($"{survivors[0].HttpUrl}/metrics")).Split('\n');
            var counted = Assert.Single(metrics, l => l.StartsWith("kyros_notifications_sent_total{target=\"hook\",kind=\"webhook\"} ", StringComparison.Ordinal));
            Assert.True(int.Parse(counted.Split(' ')[1]) >= sent, counted);
            Assert.Single(metrics, l => l.StartsWith("kyros_notifications_queued{target=\"hook\",kind=\"webhook\"} ", StringComparison.Ordinal));
            Assert.Contains("# TYPE kyros_notifications_failed_total counter", metrics);
        }
        finally
        {
            foreach (var silo in silos) await silo.DisposeAsync();
        }
    }

    private static async Task<JsonElement> TargetsAsync(HttpClient http, SiloProcess silo) =>
        (await http.GetFromJsonAsync<JsonElement>($"{silo.HttpUrl}/v1/alerts/notifications")).GetProperty("targets");

    /// <summary>Pushes samples over HTTP, again while the cluster answers 503 (grains moving off a dead silo).</summary>
    private static async Task PushAsync(SiloProcess silo, string host, ResourceSample[] samples)
    {
        using var http = new HttpClient { BaseAddress = new Uri(silo.HttpUrl), Timeout = TimeSpan.FromSeconds(20) };
        var body = JsonSerializer.Serialize(samples.Select(s => new { node = s.Node, timestamp = s.Timestamp, cpu_percent = s.CpuPercent, group = s.Group }));
        var answers = new List<string>();
        try
        {
            await Eventually.UntilAsync(async () =>
            {
                var response = await http.PostAsync($"/v1/resources/nodes/{host}/samples", new StringContent(body, Encoding.UTF8, "application/json"));
                if (!response.IsSuccessStatusCode) answers.Add($"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                Assert.NotEqual(HttpStatusCode.BadRequest, response.StatusCode);
                return response.IsSuccessStatusCode;
            }, ok => ok, TimeSpan.FromSeconds(60));
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new InvalidOperationException($"pushing to {silo.Name} failed: {string.Join(" | ", answers.TakeLast(3))}; its log: {string.Join(" | ", silo.Log.TakeLast(10))}", e);
        }
    }
}

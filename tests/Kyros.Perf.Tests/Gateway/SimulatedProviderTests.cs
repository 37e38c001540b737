using Kyros.Perf.Catalog;
using Kyros.Perf.Gateway;
using Microsoft.Extensions.AI;

namespace Kyros.Perf.Tests.Gateway;

public sealed class SimulatedProviderTests
{
    [Fact]
    public void Draws_follow_the_profile_median_error_rate_and_error_mix_and_a_seed_replays_them()
    {
        var profile = new SimulationProfile { TtftMedianSeconds = 0.5, Spread = 0.4, ErrorRate = 0.05, TimeoutShare = 0.2, RateLimitShare = 0.4, TokensPerSecond = 50 };
        var draws = Enumerable.Range(0, 40_000).Select(_ => SimulatedModel.Draw(profile, Random)).ToArray();

        var ttft = draws.Select(d => d.TimeToFirstToken.TotalSeconds).Order().ToArray();
        Assert.Equal(0.5, ttft[ttft.Length / 2], 0.5 * 0.03);
        // The log-normal's 84th percentile is the median times e^spread.
        Assert.Equal(0.5 * Math.Exp(0.4), ttft[(int)(ttft.Length * 0.8413)], 0.5 * Math.Exp(0.4) * 0.04);
        var errors = draws.Where(d => d.ErrorKind is not null).ToArray();
        Assert.Equal(0.05, errors.Length / (double)draws.Length, 0.005);
        Assert.Equal(0.4, errors.Count(e => e.ErrorKind == "rate_limit") / (double)errors.Length, 0.05);
        Assert.Equal(0.02, draws[0].PerToken.TotalSeconds, 9);

    }

    [Fact]
    public async Task A_seed_replays_a_run_and_another_seed_does_not()
    {
        async Task<string> Run(int seed)
        {
            var options = Microsoft.Extensions.Options.Options.Create(new GatewayOptions { SimulationSeed = seed, SimulationTimeScale = 0 });
            using var connections = new ProviderConnections(options, new ModelCatalog(Microsoft.Extensions.Options.Options.Create(new ModelCatalogOptions())));
            using var clients = new ChatClients(options, connections, TimeProvider.System);
            var model = new ModelDescriptor { Id = "sim", Simulation = new SimulationProfile { ErrorRate = 0.5 } };
            var outcomes = new System.Text.StringBuilder();
            for (var i = 0; i < 40; i++)
            {
                try
                {
                    await clients.For(model).GetResponseAsync([new ChatMessage(ChatRole.User, "x")], new ChatOptions { MaxOutputTokens = 1 });
                    outcomes.Append('.');
                }
                catch (ProviderException e)
                {
                    outcomes.Append(e.ErrorKind[0]);
                }
            }
            return outcomes.ToString();
        }
        var first = await Run(11);
        Assert.Equal(first, await Run(11));
        Assert.NotEqual(first, await Run(12));
        Assert.Contains('.', first);
        Assert.Contains('r', first);
    }

    [Theory]
    [InlineData("2", 2.0)]
    [InlineData("0.25", 0.25)]
    [InlineData("-5", 0.0)]
    [InlineData("1e15", 86400.0)]
    [InlineData("Sun, 29 Nov 2026 12:00:30 GMT", 30.0)]
    [InlineData("Sun, 29 Nov 2026 11:59:00 GMT", 0.0)]
    [InlineData("soon", null)]
    [InlineData("Infinity", null)]
    public void Retry_after_reads_seconds_and_http_dates_and_never_goes_negative_or_throws(string value, double? seconds)
    {
        var now = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        Assert.Equal(seconds, ProviderErrors.RetryAfter(value, now)?.TotalSeconds);
    }

    [Fact]
    public async Task The_simulated_client_answers_with_the_requested_length_marked_simulated_with_usage()
    {
        var model = new ModelDescriptor { Id = "sim", Simulation = new SimulationProfile { ErrorRate = 0 } };
        using var client = new SimulatedChatClient(model, new Random(1), timeScale: 0, TimeProvider.System);
        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hello world")], new ChatOptions { MaxOutputTokens = 12 });

        Assert.StartsWith("[simulated]", response.Text);
        Assert.Equal(12, response.Text.Split(' ').Length);
        Assert.Equal((2L, 12L), (response.Usage!.InputTokenCount!.Value, response.Usage.OutputTokenCount!.Value));
    }

    [Fact]
    public void Request_ids_carry_their_model_and_time_and_nothing_else_parses()
    {
        var at = new DateTimeOffset(2026, 11, 29, 1, 2, 3, 456, TimeSpan.Zero);
        var id = RequestIds.Create("claude-3.5/sonnet+", at);
        Assert.True(RequestIds.TryParse(id, out var model, out var when));
        Assert.Equal(("claude-3.5/sonnet+", at), (model, when));
        Assert.False(RequestIds.TryParse(id + ".a1", out _, out _));
        Assert.False(RequestIds.TryParse("req_123", out _, out _));
        Assert.False(RequestIds.TryParse("gen.!!.zz.00000000000000000000000000000000", out _, out _));
    }

    private static readonly Random Random = new(42);
}

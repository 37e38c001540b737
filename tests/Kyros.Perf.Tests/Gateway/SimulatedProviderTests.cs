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

        var again = Enumerable.Range(0, 100).Select(_ => SimulatedModel.Draw(profile, new Random(7))).First();
        Assert.Equal(again, SimulatedModel.Draw(profile, new Random(7)));
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

using Kyros.Perf.Catalog;

namespace Kyros.Perf.Gateway;

/// <summary>One simulated call's draws: whether and how it fails, its time to first token, and its pace.</summary>
public readonly record struct SimulatedDraw(string? ErrorKind, TimeSpan TimeToFirstToken, TimeSpan PerToken);

/// <summary>The simulated provider's arithmetic for one model: log-normal time to first token, a steady token rate, errors by kind.</summary>
public static class SimulatedModel
{
    public static SimulatedDraw Draw(SimulationProfile profile, Random random)
    {
        // Box-Muller: a standard normal from two uniforms.
        var normal = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        var ttft = TimeSpan.FromSeconds(profile.TtftMedianSeconds * Math.Exp(profile.Spread * normal));
        string? error = null;
        if (random.NextDouble() < profile.ErrorRate)
        {
            var kind = random.NextDouble();
            error = kind < profile.TimeoutShare ? "timeout" : kind < profile.TimeoutShare + profile.RateLimitShare ? "rate_limit" : "server_error";
        }
        return new SimulatedDraw(error, ttft, TimeSpan.FromSeconds(1 / profile.TokensPerSecond));
    }

    private static readonly string[] Words =
    [
        "the", "model", "answer", "is", "a", "simulated", "reply", "of", "the", "requested", "length", "and", "it", "says",
        "nothing", "real", "about", "your", "question", "so", "treat", "it", "as", "a", "test",
    ];

    /// <summary>The n-th word of the simulated text (each is one token in the o200k encoding, with its leading space).</summary>
    public static string Word(int index) => index == 0 ? "[simulated]" : " " + Words[index % Words.Length];
}

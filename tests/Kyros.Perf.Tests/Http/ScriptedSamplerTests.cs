using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Kyros.Perf.HostSampling;
using Kyros.Perf.Resources;
using Kyros.Perf.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Kyros.Perf.Tests.Http;

/// <summary>The silo's own sampling path end to end, with the host replaced by a scripted sampler.</summary>
public sealed class ScriptedSamplerTests
{
    /// <summary>Gives the CPU values it is handed, one per sample, and signals each one it has given.</summary>
    private sealed class ScriptedSampler(double[] cpu) : IResourceSampler
    {
        private int _next = -1;
        public Channel<int> Taken { get; } = Channel.CreateUnbounded<int>();

        public Task<ResourceSample> SampleAsync(string node, string group, CancellationToken cancellationToken = default)
        {
            var index = Interlocked.Increment(ref _next);
            var value = cpu[Math.Clamp(index, 0, cpu.Length - 1)];
            if (index >= 0) Taken.Writer.TryWrite(index);
            return Task.FromResult(new ResourceSample { Node = node, Group = group, Timestamp = DateTimeOffset.UtcNow, CpuPercent = value });
        }
    }

    [Fact]
    public async Task The_timer_driven_path_raises_and_resolves_an_alert_from_what_the_sampler_reads()
    {
        // Reading 0 is the baseline the grain takes before its timer starts (not ingested); 1-4 are its first four samples.
        var sampler = new ScriptedSampler([50, 91, 92, 30, 30]);
        await using var silo = await HttpSilo.StartAsync(null, b => b.Services.AddSingleton<IResourceSampler>(sampler));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await sampler.Taken.Reader.ReadAsync(timeout.Token) < 4) { }

        // The fourth sample is read; the grain has handled it once its summary counts it.
        await Eventually.UntilAsync(() => silo.Http.GetFromJsonAsync<JsonElement>("/v1/resources/nodes/test-silo?window=5m"),
            s => s.GetProperty("sample_count").GetInt32() >= 4);

        var log = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/resources/alerts?node=test-silo");
        var kinds = log.GetProperty("events").EnumerateArray().Where(e => e.GetProperty("series").GetString() == "cpu")
            .Select(e => $"{e.GetProperty("kind").GetString()}:{e.GetProperty("level").GetString()}").Reverse().ToArray();
        Assert.Equal(["raised:critical", "resolved:none"], kinds);
        Assert.Empty(log.GetProperty("active").EnumerateArray());
    }
}

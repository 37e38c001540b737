namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>Waits for a condition that the system reaches on its own time (a timer's sample, a write off the response path).</summary>
public static class Eventually
{
    /// <summary>Reads until <paramref name="done"/> holds, and fails the test when it has not within <paramref name="within"/> (20 s).</summary>
    public static async Task<T> UntilAsync<T>(Func<Task<T>> read, Func<T, bool> done, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(20);
        var deadline = DateTime.UtcNow + limit;
        while (true)
        {
            var value = await read();
            if (done(value)) return value;
            Assert.True(DateTime.UtcNow < deadline, $"the condition did not hold within {limit.TotalSeconds:0} s");
            await Task.Delay(50);
        }
    }
}

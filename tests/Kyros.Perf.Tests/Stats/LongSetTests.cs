using Kyros.Perf.Stats;

namespace Kyros.Perf.Tests.Stats;

public sealed class LongSetTests
{
    [Fact]
    public void Adds_and_removals_in_any_order_answer_as_a_hash_set_does()
    {
        var random = new Random(7);
        var set = new LongSet();
        var reference = new HashSet<long>();
        // Few distinct keys (so removals hit) with clustered homes, zero among them, growing and shrinking the table.
        for (var round = 0; round < 4; round++)
        {
            for (var i = 0; i < 20_000; i++)
            {
                var key = random.Next(0, 6_000) * 37L;
                Assert.Equal(reference.Add(key), set.Add(key));
            }
            for (var i = 0; i < 25_000; i++)
            {
                var key = random.Next(0, 6_000) * 37L;
                Assert.Equal(reference.Remove(key), set.Remove(key));
            }
            Assert.Equal(reference.Count, set.Count);
            for (var key = 0L; key < 6_000 * 37; key += 37) Assert.Equal(reference.Contains(key), set.Contains(key));
        }
    }
}

using System.Numerics;
using System.Text;

namespace Kyros.Perf.Routing;

/// <summary>
/// One thread's working space for a decision. Decisions are synchronous, so each thread reuses its buffers and a
/// decision allocates little beyond its answer (the hot path runs at thousands of decisions a second per silo).
/// </summary>
internal sealed class RoutingScratch
{
    [ThreadStatic] private static RoutingScratch? t_current;

    public static RoutingScratch Current => t_current ??= new RoutingScratch();

    public readonly List<CandidateFigures> Passing = new(64);
    public readonly List<RejectedCandidate> Rejected = [];
    public readonly StringBuilder Text = new(512);
    public RankedCandidate[] Scores = new RankedCandidate[64];
    public int[] Order = new int[64];
    public double[] Values = new double[128];
    public int[] Candidates = new int[64];

    /// <summary>Per catalog index, the stamp of the last decision that named the model.</summary>
    public int[] Seen = [];
    private int _stamp;

    /// <summary>Empties the lists and makes room for <paramref name="candidates"/> out of a catalog of <paramref name="models"/>.</summary>
    public void Reset(int candidates, int models)
    {
        Passing.Clear();
        Rejected.Clear();
        if (Seen.Length < models)
        {
            Seen = new int[models];
            _stamp = 0;
        }
        if (Scores.Length >= candidates) return;
        var size = (int)BitOperations.RoundUpToPowerOf2((uint)candidates);
        Scores = new RankedCandidate[size];
        Order = new int[size];
        Candidates = new int[size];
        Values = new double[2 * size];
    }

    public int NextStamp()
    {
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(Seen);
            _stamp = 1;
        }
        return _stamp;
    }
}

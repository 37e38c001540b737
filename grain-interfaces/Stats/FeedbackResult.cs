using Orleans.Concurrency;

namespace Kyros.Perf.Stats;

public enum FeedbackResult
{
    Recorded,
    /// <summary>The request already had a score; the first one stands.</summary>
    Duplicate,
    UnknownRequest,
}

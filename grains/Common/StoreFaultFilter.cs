using Microsoft.Data.Sqlite;
using StackExchange.Redis;

namespace Kyros.Perf.Common;

/// <summary>
/// Converts a store's own exception (Redis down, hung or timing out; SQLite busy or locked) thrown inside a grain call
/// into <see cref="KyrosUnavailableException"/> at the grain boundary: Orleans has no codec for the store's types, so
/// the caller would get a <c>CodecNotFoundException</c> instead of a fault it can retry.
/// </summary>
public sealed class StoreFaultFilter : IIncomingGrainCallFilter
{
    public Task Invoke(IIncomingGrainCallContext context)
    {
        // No async frame on the path of a call that completed: this runs on every grain call.
        var call = context.Invoke();
        return call.IsCompletedSuccessfully ? call : Convert(call);
    }

    private static async Task Convert(Task call)
    {
        try
        {
            await call;
        }
        catch (Exception exception) when (Unavailable(exception) is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>The store's exception as a fault that passes, saying which store; null when it is not a store's.</summary>
    public static KyrosUnavailableException? Unavailable(Exception exception) =>
        StoreFault(exception) is { } store ? new KyrosUnavailableException($"{store} did not answer: {exception.GetBaseException().Message}") : null;

    /// <summary>Which store failed, when the exception or one of its causes is a store's; null otherwise.</summary>
    public static string? StoreFault(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            if (e is RedisException or RedisTimeoutException) return "Redis";
            if (e is SqliteException { SqliteErrorCode: 5 or 6 }) return "SQLite (busy or locked)";
            // Orleans' Redis storage wraps the client's exceptions in its own, and the client's socket layer throws plain
            // .NET types (InvalidOperationException, OperationCanceledException) when a connection is torn down.
            if (FromRedis(e.GetType().Namespace) || FromRedis(e.TargetSite?.DeclaringType?.Namespace)) return "Redis";
        }
        return null;
    }

    private static bool FromRedis(string? ns) =>
        ns is not null && (ns.StartsWith("StackExchange.Redis", StringComparison.Ordinal) || ns.StartsWith("Pipelines.Sockets", StringComparison.Ordinal)
                           || ns.StartsWith("Orleans.Persistence", StringComparison.Ordinal) || ns.StartsWith("Orleans.Clustering.Redis", StringComparison.Ordinal));
}

using Orleans.Runtime;

namespace Kyros.Perf.Common;

/// <summary>Which exceptions are faults that pass (a 503 and a retry), as opposed to bad input or a bug.</summary>
public static class TransientFaults
{
    /// <summary>A silo gone or leaving, a message rejected or timed out, a connection lost, a store that did not answer.</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        KyrosUnavailableException or SiloUnavailableException or OrleansMessageRejectionException or TimeoutException
            or Orleans.Runtime.Messaging.ConnectionFailedException or GatewayTooBusyException or ClientNotAvailableException => true,
        AggregateException aggregate => aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(IsTransient),
        OrleansException { InnerException: { } inner } => IsTransient(inner),
        _ => false,
    };

    /// <summary>The fault as the one type callers catch, saying what happened.</summary>
    public static KyrosUnavailableException Describe(Exception exception) => exception as KyrosUnavailableException
        ?? new KyrosUnavailableException($"The cluster is unavailable for the moment ({exception.GetType().Name}: {exception.Message}); try again.", exception);
}

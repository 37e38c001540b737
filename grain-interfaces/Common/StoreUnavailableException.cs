namespace Kyros.Perf.Common;

/// <summary>
/// A store the product depends on (Redis, SQLite) did not answer. Carries only a message, so it crosses
/// from silo to client intact (a store's own exception types have no Orleans codec). HTTP answers 503.
/// </summary>
[GenerateSerializer, Alias("kyros.StoreUnavailableException")]
public sealed class StoreUnavailableException(string message) : Exception(message);

using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Kyros.Perf.Durability;

/// <summary>
/// At start, reads whether Redis keeps what it acknowledged across its own restart (AOF on). When it does not, a
/// record the silo acknowledges lives only in Redis's memory: in the Production environment the silo refuses to start
/// (unless <see cref="RedisDurabilityOptions.AllowVolatile"/>), elsewhere it warns.
/// </summary>
public sealed class RedisPersistenceCheck(
    IConnectionMultiplexer redis,
    IHostEnvironment environment,
    IOptions<RedisDurabilityOptions> options,
    ILogger<RedisPersistenceCheck> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var db = redis.GetDatabase();
        string info;
        try
        {
            info = (string)(await db.ExecuteAsync("INFO", "persistence"))!;
        }
        catch (RedisException exception)
        {
            // A managed Redis may refuse INFO; that says nothing either way.
            logger.LogWarning("Could not read Redis's persistence settings ({Reason}): make sure it runs with appendonly yes", exception.Message);
            return;
        }
        var problem = Problem(Field(info, "aof_enabled"), await AppendFsyncAsync(db));
        if (problem is null) return;
        if (problem.Fatal && environment.IsProduction() && !options.Value.AllowVolatile)
            throw new OptionsValidationException(RedisDurabilityOptions.Section, typeof(RedisDurabilityOptions),
                [$"{problem.Text} Run Redis with --appendonly yes --appendfsync everysec (as deploy/ does), or set {RedisDurabilityOptions.Section}:AllowVolatile=true for a throwaway cluster."]);
        logger.LogWarning("{Problem}", problem.Text);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>What is wrong with these settings for acknowledged writes; null when nothing is.</summary>
    public static PersistenceProblem? Problem(string? aofEnabled, string? appendFsync) => (aofEnabled, appendFsync) switch
    {
        ("1", "no") => new("Redis writes its AOF but leaves flushing it to the operating system (appendfsync no): a machine crash loses up to 30 s of acknowledged writes.", Fatal: false),
        ("1", _) => null,
        (null, _) => new("Redis did not say whether it writes an AOF: acknowledged writes may not survive its restart.", Fatal: false),
        _ => new("Redis does not persist acknowledged writes (appendonly no): a Redis restart loses every record acknowledged since its last snapshot.", Fatal: true),
    };

    private static async Task<string?> AppendFsyncAsync(IDatabase db)
    {
        try
        {
            var reply = (RedisResult[]?)await db.ExecuteAsync("CONFIG", "GET", "appendfsync");
            return reply is { Length: 2 } ? (string?)reply[1] : null;
        }
        catch (RedisException)
        {
            // CONFIG is often renamed or disabled on managed Redis.
            return null;
        }
    }

    private static string? Field(string info, string name)
    {
        foreach (var line in info.Split('\n'))
            if (line.StartsWith(name + ":", StringComparison.Ordinal)) return line[(name.Length + 1)..].Trim();
        return null;
    }
}

public sealed record PersistenceProblem(string Text, bool Fatal);

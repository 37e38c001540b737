using System.Text.Json;
using System.Threading.Channels;
using Kyros.Perf.Benchmarking;
using Kyros.Perf.Common;
using Kyros.Perf.Resources;
using Kyros.Perf.Stats;
using Kyros.Perf.Tuning;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Kyros.Perf.History;

/// <summary>
/// Per-minute and per-hour roll-ups in SQLite, sketches included. Writers enqueue and await the commit;
/// one background loop writes whatever has queued up in one transaction, and enforces retention.
/// </summary>
public sealed class SqliteHistoryStore : BackgroundService
{
    private readonly HistoryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SqliteHistoryStore> _logger;
    private readonly string _connectionString;
    private readonly Channel<PendingWrite> _queue = Channel.CreateUnbounded<PendingWrite>(new() { SingleReader = true });
    private readonly Lazy<Task> _schema;
    private readonly SemaphoreSlim _writer = new(1, 1);
    private volatile bool _stopped;
    private DateTimeOffset _nextRetention = DateTimeOffset.MinValue;

    public SqliteHistoryStore(IOptions<HistoryOptions> options, TimeProvider time, ILogger<SqliteHistoryStore> logger)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        var path = Path.GetFullPath(_options.DatabasePath);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, DefaultTimeout = 30, Pooling = true }.ToString();
        _schema = new Lazy<Task>(CreateSchemaAsync);
    }

    public string DatabasePath => Path.GetFullPath(_options.DatabasePath);

    /// <summary>Completes once the rows are committed.</summary>
    public Task WriteAsync(IReadOnlyList<HistoryRow> rows)
    {
        if (rows.Count == 0) return Task.CompletedTask;
        var pending = new PendingWrite(rows, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        _queue.Writer.TryWrite(pending);
        // Enqueued first, checked second: either the loop's last drain (which follows setting _stopped) takes it,
        // or this writer sees _stopped and drains itself (grains deactivating at silo shutdown).
        return _stopped ? DrainThenAwaitAsync(pending) : pending.Done.Task;
    }

    /// <summary>This file's rows of the model in [from, to), each with when it was written: one shard of the cluster's history.</summary>
    public async Task<HistoryShardRow[]> QueryShardAsync(string model, HistoryResolution resolution, DateTimeOffset from, DateTimeOffset to,
        CancellationToken cancellationToken = default)
    {
        await _schema.Value;
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT bucket_start, written_at, data FROM rollups
            WHERE model = $model AND resolution = $resolution AND bucket_start >= $from AND bucket_start < $to
            ORDER BY bucket_start
            """;
        command.Parameters.AddWithValue("$model", model);
        command.Parameters.AddWithValue("$resolution", (int)resolution);
        command.Parameters.AddWithValue("$from", from.ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$to", to.ToUnixTimeSeconds());
        var rows = new List<HistoryShardRow>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken)) rows.Add(new HistoryShardRow(reader.GetInt64(0), reader.GetInt64(1), (byte[])reader[2]));
        return [.. rows];
    }

    /// <summary>This file's roll-ups of the model in [from, to), in bucket order.</summary>
    public async Task<IReadOnlyList<(DateTimeOffset Start, MetricsAggregate Aggregate)>> QueryAsync(
        string model, HistoryResolution resolution, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken = default) =>
        [.. (await QueryShardAsync(model, resolution, from, to, cancellationToken)).Select(r => (DateTimeOffset.FromUnixTimeSeconds(r.BucketStart), MetricsAggregate.FromBytes(r.Data)))];

    /// <summary>Alert events, kept as long as hourly roll-ups.</summary>
    public async Task AppendAlertsAsync(IReadOnlyList<AlertEvent> events)
    {
        await _schema.Value;
        await using var connection = await OpenAsync(CancellationToken.None);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO alert_events (at, node, data) VALUES ($at, $node, $data)";
        var at = command.Parameters.Add("$at", SqliteType.Integer);
        var node = command.Parameters.Add("$node", SqliteType.Text);
        var data = command.Parameters.Add("$data", SqliteType.Text);
        foreach (var alert in events)
        {
            at.Value = alert.Timestamp.ToUnixTimeMilliseconds();
            node.Value = alert.Node;
            data.Value = JsonSerializer.Serialize(alert, KyrosJson.Options);
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    /// <summary>The newest alert events first, at or after <paramref name="since"/> when given.</summary>
    public async Task<IReadOnlyList<AlertEvent>> QueryAlertsAsync(DateTimeOffset? since, int limit, CancellationToken cancellationToken = default)
    {
        await _schema.Value;
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM alert_events WHERE at >= $since ORDER BY id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$since", since?.ToUnixTimeMilliseconds() ?? long.MinValue);
        command.Parameters.AddWithValue("$limit", limit);
        var events = new List<AlertEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            events.Add(JsonSerializer.Deserialize<AlertEvent>(reader.GetString(0), KyrosJson.Options)!);
        return events;
    }

    /// <summary>The tuner's history: each recommendation as it stood after a change of status, kept as long as hourly roll-ups.</summary>
    public async Task AppendTuningAsync(IReadOnlyList<TuningHistoryEntry> entries)
    {
        await _schema.Value;
        await using var connection = await OpenAsync(CancellationToken.None);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO tuning_events (at, data) VALUES ($at, $data)";
        var at = command.Parameters.Add("$at", SqliteType.Integer);
        var data = command.Parameters.Add("$data", SqliteType.Text);
        foreach (var entry in entries)
        {
            at.Value = entry.Timestamp.ToUnixTimeMilliseconds();
            data.Value = JsonSerializer.Serialize(entry, KyrosJson.Options);
            await command.ExecuteNonQueryAsync();
        }
        await transaction.CommitAsync();
    }

    /// <summary>The tuner's history within [from, to], oldest first.</summary>
    public async Task<IReadOnlyList<TuningHistoryEntry>> QueryTuningAsync(DateTimeOffset from, DateTimeOffset to, int limit)
    {
        await _schema.Value;
        await using var connection = await OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM tuning_events WHERE at >= $from AND at <= $to ORDER BY id LIMIT $limit";
        command.Parameters.AddWithValue("$from", from.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$to", to.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$limit", limit);
        var entries = new List<TuningHistoryEntry>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            entries.Add(JsonSerializer.Deserialize<TuningHistoryEntry>(reader.GetString(0), KyrosJson.Options)!);
        return entries;
    }

    /// <summary>Writes a benchmark run as it stands (insert or replace).</summary>
    public async Task SaveBenchmarkRunAsync(BenchmarkRun run)
    {
        await _schema.Value;
        await using var connection = await OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO benchmark_runs (id, config_key, created_at, status, data) VALUES ($id, $key, $at, $status, $data)
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data
            """;
        command.Parameters.AddWithValue("$id", run.Id);
        command.Parameters.AddWithValue("$key", run.ConfigKey);
        command.Parameters.AddWithValue("$at", run.CreatedAt.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$status", BenchmarkStatuses.Name(run.Status));
        command.Parameters.AddWithValue("$data", JsonSerializer.Serialize(run, KyrosJson.Options));
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Runs, newest first: of one configuration, or all; only those with the given status when one is given.</summary>
    public async Task<IReadOnlyList<BenchmarkRun>> QueryBenchmarkRunsAsync(string? configKey, BenchmarkStatus? status, int limit)
    {
        await _schema.Value;
        await using var connection = await OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT data FROM benchmark_runs
            WHERE ($key IS NULL OR config_key = $key) AND ($status IS NULL OR status = $status)
            ORDER BY created_at DESC, id DESC LIMIT $limit
            """;
        command.Parameters.AddWithValue("$key", (object?)configKey ?? DBNull.Value);
        command.Parameters.AddWithValue("$status", status is { } s ? BenchmarkStatuses.Name(s) : DBNull.Value);
        command.Parameters.AddWithValue("$limit", limit);
        var runs = new List<BenchmarkRun>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) runs.Add(JsonSerializer.Deserialize<BenchmarkRun>(reader.GetString(0), KyrosJson.Options)!);
        return runs;
    }

    /// <summary>Keeps one finished cell's raw samples.</summary>
    public async Task AppendBenchmarkSamplesAsync(string runId, IReadOnlyList<BenchmarkSample> samples)
    {
        if (samples.Count == 0) return;
        await _schema.Value;
        await using var connection = await OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO benchmark_samples (run_id, data) VALUES ($run, $data)";
        command.Parameters.AddWithValue("$run", runId);
        command.Parameters.AddWithValue("$data", JsonSerializer.SerializeToUtf8Bytes(samples, KyrosJson.Options));
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A run's raw samples, cell by cell in the order they finished.</summary>
    public async Task<IReadOnlyList<BenchmarkSample>> QueryBenchmarkSamplesAsync(string runId)
    {
        await _schema.Value;
        await using var connection = await OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT data FROM benchmark_samples WHERE run_id = $run ORDER BY id";
        command.Parameters.AddWithValue("$run", runId);
        var samples = new List<BenchmarkSample>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
            samples.AddRange(JsonSerializer.Deserialize<BenchmarkSample[]>((byte[])reader.GetValue(0), KyrosJson.Options)!);
        return samples;
    }

    public async Task<bool> IsHealthyAsync()
    {
        try
        {
            await _schema.Value;
            await using var connection = await OpenAsync(CancellationToken.None);
            return true;
        }
        catch (SqliteException)
        {
            return false;
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _schema.Value;
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
                await WriteQueuedAsync();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        // Whatever queued before the stop still gets written.
        _stopped = true;
        await WriteQueuedAsync();
    }

    private async Task DrainThenAwaitAsync(PendingWrite pending)
    {
        await _schema.Value;
        await WriteQueuedAsync();
        await pending.Done.Task;
    }

    private async Task WriteQueuedAsync()
    {
        await _writer.WaitAsync();
        try
        {
            while (await WriteBatchAsync()) { }
        }
        finally
        {
            _writer.Release();
        }
    }

    /// <summary>Writes one transaction's worth of what has queued; false when nothing had.</summary>
    private async Task<bool> WriteBatchAsync()
    {
        var batch = new List<PendingWrite>();
        var rows = 0;
        while (rows < _options.MaxBatchRows && _queue.Reader.TryRead(out var pending))
        {
            batch.Add(pending);
            rows += pending.Rows.Count;
        }
        if (batch.Count == 0) return false;
        try
        {
            await using var connection = await OpenAsync(CancellationToken.None);
            await using (var transaction = (SqliteTransaction)await connection.BeginTransactionAsync())
            {
                await using var command = connection.CreateCommand();
                command.CommandText = """
                    INSERT OR REPLACE INTO rollups (model, resolution, bucket_start, record_count, data, written_at)
                    VALUES ($model, $resolution, $start, $count, $data, $written)
                    """;
                // When the row was written: where a model's grain moved between hosts, the newest row of a bucket wins.
                command.Parameters.AddWithValue("$written", _time.GetUtcNow().ToUnixTimeMilliseconds());
                var model = command.Parameters.Add("$model", SqliteType.Text);
                var resolution = command.Parameters.Add("$resolution", SqliteType.Integer);
                var start = command.Parameters.Add("$start", SqliteType.Integer);
                var count = command.Parameters.Add("$count", SqliteType.Integer);
                var data = command.Parameters.Add("$data", SqliteType.Blob);
                foreach (var row in batch.SelectMany(p => p.Rows))
                {
                    model.Value = row.Model;
                    resolution.Value = (int)row.Resolution;
                    start.Value = row.BucketStart.ToUnixTimeSeconds();
                    count.Value = row.Count;
                    data.Value = row.Data;
                    await command.ExecuteNonQueryAsync();
                }
                await transaction.CommitAsync();
            }
            await EnforceRetentionAsync(connection);
            foreach (var pending in batch) pending.Done.TrySetResult();
        }
        catch (Exception exception)
        {
            _logger.LogError(exception, "Writing {Rows} history roll-ups to {Path} failed", rows, DatabasePath);
            foreach (var pending in batch) pending.Done.TrySetException(exception);
        }
        return true;
    }

    private async Task EnforceRetentionAsync(SqliteConnection connection)
    {
        var now = _time.GetUtcNow();
        if (now < _nextRetention) return;
        _nextRetention = now + TimeSpan.FromMinutes(10);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            DELETE FROM rollups WHERE resolution = 60 AND bucket_start < $minuteCutoff;
            DELETE FROM rollups WHERE resolution = 3600 AND bucket_start < $hourCutoff;
            DELETE FROM alert_events WHERE at < $hourCutoff * 1000;
            DELETE FROM tuning_events WHERE at < $hourCutoff * 1000;
            DELETE FROM benchmark_samples WHERE run_id IN (SELECT id FROM benchmark_runs WHERE created_at < $hourCutoff * 1000);
            DELETE FROM benchmark_runs WHERE created_at < $hourCutoff * 1000;
            """;
        command.Parameters.AddWithValue("$minuteCutoff", (now - _options.MinuteRetention).ToUnixTimeSeconds());
        command.Parameters.AddWithValue("$hourCutoff", (now - _options.HourRetention).ToUnixTimeSeconds());
        await command.ExecuteNonQueryAsync();
    }

    private async Task CreateSchemaAsync()
    {
        await using var connection = await OpenAsync(CancellationToken.None);
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS rollups (
                model TEXT NOT NULL,
                resolution INTEGER NOT NULL,
                bucket_start INTEGER NOT NULL,
                record_count INTEGER NOT NULL,
                data BLOB NOT NULL,
                written_at INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (model, resolution, bucket_start)
            ) WITHOUT ROWID;
            CREATE TABLE IF NOT EXISTS alert_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at INTEGER NOT NULL,
                node TEXT NOT NULL,
                data TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS alert_events_at ON alert_events (at);
            CREATE TABLE IF NOT EXISTS tuning_events (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at INTEGER NOT NULL,
                data TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS tuning_events_at ON tuning_events (at);
            CREATE TABLE IF NOT EXISTS benchmark_runs (
                id TEXT PRIMARY KEY,
                config_key TEXT NOT NULL,
                created_at INTEGER NOT NULL,
                status TEXT NOT NULL,
                data TEXT NOT NULL
            );
            CREATE INDEX IF NOT EXISTS benchmark_runs_config ON benchmark_runs (config_key, created_at);
            CREATE TABLE IF NOT EXISTS benchmark_samples (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                run_id TEXT NOT NULL,
                data BLOB NOT NULL
            );
            CREATE INDEX IF NOT EXISTS benchmark_samples_run ON benchmark_samples (run_id);
            """;
        await command.ExecuteNonQueryAsync();
        // A file from before rows carried their write time: its rows count as the oldest.
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('rollups') WHERE name = 'written_at'";
        if ((long)(await command.ExecuteScalarAsync())! == 0)
        {
            command.CommandText = "ALTER TABLE rollups ADD COLUMN written_at INTEGER NOT NULL DEFAULT 0";
            await command.ExecuteNonQueryAsync();
        }
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA busy_timeout = 10000; PRAGMA synchronous = NORMAL;";
        await pragma.ExecuteNonQueryAsync(cancellationToken);
        return connection;
    }

    private sealed record PendingWrite(IReadOnlyList<HistoryRow> Rows, TaskCompletionSource Done);
}

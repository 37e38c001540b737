using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Kyros.Perf.Client;
using Kyros.Perf.Resources;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// The cluster's alert stream for this silo's HTTP listeners (<c>GET /v1/resources/alerts/stream</c>): one subscription
/// per silo (the SDK's <see cref="KyrosPerfClient.SubscribeAlertsAsync"/>), taken on the first listener, fanned out to
/// each. A slow listener loses its oldest events, never slows the others.
/// </summary>
public sealed class AlertFeed(KyrosPerfClient client, Microsoft.Extensions.Options.IOptions<Alerts.AlertOptions> options, ILogger<AlertFeed> logger) : IHostedService
{
    private readonly Dictionary<string, int> _openBy = new(StringComparer.Ordinal);
    private int _open;

    /// <summary>
    /// A place for one more stream of <paramref name="caller"/> (a key's name, or an address), given back when disposed;
    /// null when the caller holds <see cref="Alerts.AlertOptions.MaxStreamsPerCaller"/> or the silo <see cref="Alerts.AlertOptions.MaxStreams"/>.
    /// </summary>
    public IDisposable? TryReserve(string caller)
    {
        lock (_gate)
        {
            var held = _openBy.GetValueOrDefault(caller);
            if (held >= options.Value.MaxStreamsPerCaller || _open >= options.Value.MaxStreams) return null;
            _openBy[caller] = held + 1;
            _open++;
            return new Place(this, caller);
        }
    }

    private void Release(string caller)
    {
        lock (_gate)
        {
            _open--;
            if (--_openBy[caller] == 0) _openBy.Remove(caller);
        }
    }

    private sealed class Place(AlertFeed feed, string caller) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) feed.Release(caller);
        }
    }

    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);
    private const int ListenerBuffer = 1_000;
    private readonly Lock _gate = new();
    private readonly List<Channel<AlertEvent>> _listeners = [];
    private Task<IAsyncDisposable>? _subscribed;

    /// <summary>Alert events from now on that match the filter (as the alert log's query does), as server-sent events (<c>alert</c>), with a <c>ping</c> when nothing happened for a while.</summary>
    public async IAsyncEnumerable<SseItem<object>> ListenAsync(AlertQuery filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<AlertEvent>(new BoundedChannelOptions(ListenerBuffer) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_gate) _listeners.Add(channel);
        try
        {
            await SubscribeOnceAsync();
            yield return new SseItem<object>(new { Listening = true }, "ready");
            while (!cancellationToken.IsCancellationRequested)
            {
                using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                wait.CancelAfter(Heartbeat);
                bool ready;
                try
                {
                    ready = await channel.Reader.WaitToReadAsync(wait.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    ready = false;
                }
                if (!ready)
                {
                    yield return new SseItem<object>(new { At = DateTimeOffset.UtcNow }, "ping");
                    continue;
                }
                while (channel.Reader.TryRead(out var alert))
                    if (filter.Matches(alert)) yield return new SseItem<object>(alert, "alert");
            }
        }
        finally
        {
            lock (_gate) _listeners.Remove(channel);
        }
    }

    private Task<IAsyncDisposable> SubscribeOnceAsync()
    {
        lock (_gate)
        {
            // A failed subscription is tried again by the next listener.
            if (_subscribed is null || _subscribed.IsFaulted || _subscribed.IsCanceled) _subscribed = client.SubscribeAlertsAsync(Deliver);
            return _subscribed;
        }
    }

    private Task Deliver(AlertEvent alert)
    {
        lock (_gate)
            foreach (var listener in _listeners) listener.Writer.TryWrite(alert);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Before the silo stops: the subscription is given back, so that no stale consumer stays in the stream's pub-sub state.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task<IAsyncDisposable>? subscribed;
        lock (_gate) subscribed = _subscribed;
        if (subscribed is null || !subscribed.IsCompletedSuccessfully) return;
        try
        {
            await subscribed.Result.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or OperationCanceledException)
        {
            logger.LogDebug("The alert stream subscription was not given back: {Reason}", e.Message);
        }
    }
}

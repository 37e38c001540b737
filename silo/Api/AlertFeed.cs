using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Kyros.Perf.Resources;
using Orleans.Streams;

namespace Kyros.Perf.Silo.Api;

/// <summary>
/// The cluster's alert stream for this silo's HTTP listeners (<c>GET /v1/resources/alerts/stream</c>): one subscription
/// per silo, taken on the first listener, fanned out to each. A slow listener loses its oldest events, never slows the others.
/// </summary>
public sealed class AlertFeed(IClusterClient cluster, ILogger<AlertFeed> logger) : IHostedService
{
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(15);
    private const int ListenerBuffer = 1_000;
    private readonly Lock _gate = new();
    private readonly List<Channel<AlertEvent>> _listeners = [];
    private Task<StreamSubscriptionHandle<AlertEvent>>? _subscribed;

    /// <summary>Alert events from now on as server-sent events (<c>alert</c>), with a <c>ping</c> when nothing happened for a while.</summary>
    public async IAsyncEnumerable<SseItem<object>> ListenAsync(AlertLevel? minimumLevel, string? node, [EnumeratorCancellation] CancellationToken cancellationToken)
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
                    if ((minimumLevel is null || alert.Level >= minimumLevel || alert.PreviousLevel >= minimumLevel) && (node is null || alert.Node == node))
                        yield return new SseItem<object>(alert, "alert");
            }
        }
        finally
        {
            lock (_gate) _listeners.Remove(channel);
        }
    }

    private Task<StreamSubscriptionHandle<AlertEvent>> SubscribeOnceAsync()
    {
        lock (_gate)
        {
            // A failed subscription is tried again by the next listener.
            if (_subscribed is null || _subscribed.IsFaulted || _subscribed.IsCanceled) _subscribed = SubscribeAsync();
            return _subscribed;
        }
    }

    private async Task<StreamSubscriptionHandle<AlertEvent>> SubscribeAsync()
    {
        var stream = cluster.GetStreamProvider(AlertStreams.Provider).GetStream<AlertEvent>(StreamId.Create(AlertStreams.Namespace, AlertStreams.All));
        var handle = await stream.SubscribeAsync((alert, _) =>
        {
            lock (_gate)
                foreach (var listener in _listeners) listener.Writer.TryWrite(alert);
            return Task.CompletedTask;
        });
        logger.LogDebug("Listening to the alert stream for HTTP listeners");
        return handle;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Before the silo stops: the subscription is given back, so that no stale consumer stays in the stream's pub-sub state.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        Task<StreamSubscriptionHandle<AlertEvent>>? subscribed;
        lock (_gate) subscribed = _subscribed;
        if (subscribed is null || !subscribed.IsCompletedSuccessfully) return;
        try
        {
            await subscribed.Result.UnsubscribeAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
        }
        catch (Exception e) when (e is OrleansException or TimeoutException or OperationCanceledException)
        {
            logger.LogDebug("The alert stream subscription was not given back: {Reason}", e.Message);
        }
    }
}

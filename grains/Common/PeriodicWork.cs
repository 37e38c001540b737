namespace Kyros.Perf.Common;

/// <summary>Work done at once and then every interval of the product's clock until stopped; a round that fails is reported and the next one comes.</summary>
public static class PeriodicWork
{
    public static async Task RunAsync(TimeSpan interval, TimeProvider time, Func<Task> work, Action<Exception> failed, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        do
        {
            try
            {
                await work();
            }
            catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
            {
                failed(exception);
            }
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken token)
    {
        try
        {
            return await timer.WaitForNextTickAsync(token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}

namespace Kyros.Perf.Common;

/// <summary>
/// One write at a time for a reentrant grain, shared by whoever asks meanwhile: a caller that arrives while a write is
/// in flight waits for the next one, which stores every change made until it starts. Runs on the grain's scheduler, so
/// it needs no locks.
/// </summary>
public sealed class CoalescedWrite(Func<Task> write)
{
    private TaskCompletionSource? _waiting;
    private bool _writing;

    public Task WriteAsync()
    {
        _waiting ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var done = _waiting.Task;
        if (!_writing) _ = DrainAsync();
        return done;
    }

    private async Task DrainAsync()
    {
        _writing = true;
        try
        {
            while (_waiting is { } batch)
            {
                _waiting = null;
                try
                {
                    await write();
                    batch.SetResult();
                }
                catch (Exception exception)
                {
                    batch.SetException(exception);
                }
            }
        }
        finally
        {
            _writing = false;
        }
    }
}

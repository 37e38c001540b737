namespace Kyros.Perf.Silo;

/// <summary>
/// Ends the process when a stop (SIGTERM) has not finished within <c>Kyros:ShutdownTimeout</c>. The host cancels its
/// services' stop at that time, but Orleans does not give up on its own: with Redis gone, the silo's leave retries its
/// membership write for <c>ClusterMembershipOptions.MaxJoinAttemptTime</c> (5 minutes) whatever the token says. Nothing
/// acknowledged is lost by leaving then: it is in Redis, and the other silos take the grains over once they declare
/// this one dead, as after a kill.
/// </summary>
public static class ShutdownDeadline
{
    /// <summary>The exit code of a stop that ran out of time (a clean stop exits with 0).</summary>
    public const int ExitCode = 3;

    public static void Enforce(IHostApplicationLifetime lifetime, TimeSpan timeout)
    {
        var stopped = new ManualResetEventSlim();
        // A host that stopped in time must not be ended afterwards.
        lifetime.ApplicationStopped.Register(stopped.Set);
        lifetime.ApplicationStopping.Register(() =>
        {
            var deadline = new Thread(() =>
            {
                if (stopped.Wait(timeout)) return;
                // Straight to stderr: the console logger writes from a queue that exiting would cut short.
                Console.Error.WriteLine($"Kyros.Perf did not stop within Kyros:ShutdownTimeout ({timeout:c}): exiting now.");
                Environment.Exit(ExitCode);
            })
            { IsBackground = true, Name = "shutdown deadline" };
            deadline.Start();
        });
    }
}

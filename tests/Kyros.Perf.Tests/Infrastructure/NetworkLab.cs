using System.Diagnostics;

namespace Kyros.Perf.Tests.Infrastructure;

/// <summary>
/// Hosts on one machine: a network namespace each, joined by veth pairs to a bridge at <see cref="BridgeAddress"/>,
/// so that one host can be cut off (its link down) and brought back. A blackhole route for the whole range goes in
/// before anything else and comes out last, so no packet for these addresses ever leaves the machine. Needs root;
/// <see cref="TryCreateAsync"/> says why it cannot run otherwise.
/// </summary>
public sealed class NetworkLab : IAsyncDisposable
{
    private const string Range = "10.77.0.0/16";
    private const string Bridge = "kyrosbr0";
    public const string BridgeAddress = "10.77.0.254";
    private readonly int _hosts;

    private NetworkLab(int hosts) => _hosts = hosts;

    /// <summary>Host <paramref name="i"/>'s address (from 0).</summary>
    public static string AddressOf(int i) => $"10.77.0.{i + 1}";

    /// <summary>The command prefix that runs a process on host <paramref name="i"/>.</summary>
    public static string[] On(int i) => ["ip", "netns", "exec", Namespace(i)];

    private static string Namespace(int i) => $"kyros-h{i}";

    /// <summary>The lab, or null with the reason it cannot be built here (not root, no namespaces).</summary>
    public static async Task<(NetworkLab? Lab, string? Why)> TryCreateAsync(int hosts)
    {
        var lab = new NetworkLab(hosts);
        await lab.RemoveAsync(); // what an earlier run left, if it was killed
        try
        {
            await Ip($"route add blackhole {Range}");
            await Ip($"link add {Bridge} type bridge");
            await Ip($"addr add {BridgeAddress}/24 dev {Bridge}");
            await Ip($"link set {Bridge} up");
            for (var i = 0; i < hosts; i++)
            {
                await Ip($"netns add {Namespace(i)}");
                await Ip($"link add kyv{i} type veth peer name kyp{i}");
                await Ip($"link set kyp{i} netns {Namespace(i)}");
                await Ip($"link set kyv{i} master {Bridge}");
                await Ip($"link set kyv{i} up");
                await Ip($"-n {Namespace(i)} addr add {AddressOf(i)}/24 dev kyp{i}");
                await Ip($"-n {Namespace(i)} link set kyp{i} up");
                await Ip($"-n {Namespace(i)} link set lo up");
            }
            return (lab, null);
        }
        catch (InvalidOperationException exception)
        {
            await lab.RemoveAsync();
            return (null, $"network namespaces are not available here ({exception.Message})");
        }
    }

    /// <summary>Cuts host <paramref name="i"/> off: its link to the bridge goes down.</summary>
    public Task CutAsync(int i) => Ip($"link set kyv{i} down");

    /// <summary>Brings host <paramref name="i"/> back.</summary>
    public Task HealAsync(int i) => Ip($"link set kyv{i} up");

    public async ValueTask DisposeAsync() => await RemoveAsync();

    /// <summary>Namespaces, links and the bridge go first, the blackhole route last; each only if it is there.</summary>
    private async Task RemoveAsync()
    {
        for (var i = 0; i < Math.Max(_hosts, 8); i++)
        {
            await Ip($"netns del {Namespace(i)}", mayFail: true);
            await Ip($"link del kyv{i}", mayFail: true);
        }
        await Ip($"link del {Bridge}", mayFail: true);
        await Ip($"route del blackhole {Range}", mayFail: true);
    }

    private static async Task Ip(string arguments, bool mayFail = false)
    {
        var start = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments.Split(' ')) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("ip could not start");
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0 && !mayFail) throw new InvalidOperationException($"ip {arguments}: {error.Trim()}");
    }
}

using System.Net;
using System.Net.Sockets;

namespace Kyros.Perf.Gateway;

/// <summary>
/// Which addresses a provider call may connect to. A catalog endpoint is chosen by whoever holds an admin key, so
/// without this rule it could aim the silo at the cluster's own network (Redis, the Orleans ports, a cloud's metadata
/// service) and read what answers. Public addresses pass; private, loopback, link-local, unique-local, shared (CGNAT),
/// multicast and unspecified ones pass only inside <see cref="GatewayOptions.AllowedProviderNetworks"/>. Checked on
/// the addresses a name resolves to, when the connection is made, so a name that changes its answer cannot slip by.
/// </summary>
public sealed class ProviderNetworks(IEnumerable<string> allowed)
{
    private readonly IPNetwork[] _allowed = [.. allowed.Select(n => IPNetwork.Parse(n))];

    private static readonly IPNetwork[] NotPublic =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.0.0.0/24"), IPNetwork.Parse("192.168.0.0/16"),
        IPNetwork.Parse("198.18.0.0/15"), IPNetwork.Parse("224.0.0.0/3"),
        IPNetwork.Parse("::/127"), IPNetwork.Parse("fc00::/7"), IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    public bool Allows(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        return _allowed.Any(n => n.Contains(address)) || !NotPublic.Any(n => n.Contains(address));
    }

    /// <summary>A connection to the first allowed address <paramref name="host"/> resolves to; refused when none is.</summary>
    public async ValueTask<Stream> ConnectAsync(DnsEndPoint host, CancellationToken cancellationToken)
    {
        var addresses = IPAddress.TryParse(host.Host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host.Host, cancellationToken);
        var allowed = addresses.Where(Allows).ToArray();
        if (allowed.Length == 0)
            throw new ProviderNetworkRefusedException($"{host.Host} is on a network providers may not be reached on (add it to Kyros:Gateway:AllowedProviderNetworks to allow it).");
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, host.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A provider address the gateway itself refused (<see cref="ProviderNetworks"/>): its reason may be shown, it says nothing of the network.</summary>
public sealed class ProviderNetworkRefusedException(string message) : HttpRequestException(message);

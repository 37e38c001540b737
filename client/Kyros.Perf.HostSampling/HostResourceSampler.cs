using System.Globalization;
using Kyros.Perf.Resources;

namespace Kyros.Perf.HostSampling;

/// <summary>Reads a host into a <see cref="ResourceSample"/>.</summary>
public interface IResourceSampler
{
    Task<ResourceSample> SampleAsync(string node, string group, CancellationToken cancellationToken = default);
}

/// <summary>
/// Samples this host from the kernel's own files (Linux): CPU and memory against the container's cgroup limits when
/// there are any (v2 or v1) and the whole machine otherwise, mounted disks, network rates per interface, established
/// TCP connections, this silo's in-flight HTTP requests (none on an agent), and the GPUs through <see cref="GpuReader"/>.
/// Rates are deltas since the previous sample, so the first sample measures from construction.
/// </summary>
public sealed class HostResourceSampler(GpuReader gpus, TimeProvider time, InFlightRequests? inFlight = null, string procRoot = "/proc", string cgroupRoot = "/sys/fs/cgroup") : IResourceSampler
{
    private static readonly HashSet<string> PseudoFileSystems =
    [
        "proc", "sysfs", "tmpfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "mqueue", "securityfs", "debugfs", "tracefs", "pstore",
        "bpf", "autofs", "configfs", "fusectl", "hugetlbfs", "binfmt_misc", "nsfs", "rpc_pipefs", "squashfs", "ramfs", "efivarfs",
    ];
    private readonly object _gate = new();
    private CpuReading _cpu = default;
    private Dictionary<string, (long Rx, long Tx)> _network = [];
    private long _networkAt;

    public async Task<ResourceSample> SampleAsync(string node, string group, CancellationToken cancellationToken = default)
    {
        double? cpu;
        IReadOnlyList<NetworkSample> networks;
        lock (_gate)
        {
            cpu = ReadCpuPercent();
            networks = ReadNetworks();
        }
        var (memoryUsed, memoryTotal) = ReadMemory();
        return new ResourceSample
        {
            Node = node,
            Group = group,
            Timestamp = time.GetUtcNow(),
            CpuPercent = cpu,
            MemoryUsedBytes = memoryUsed,
            MemoryTotalBytes = memoryTotal,
            MemoryPercent = memoryUsed is { } used && memoryTotal is > 0 and var total ? Math.Clamp(100.0 * used / total, 0, 100) : null,
            Disks = ReadDisks(),
            Networks = networks,
            TcpConnections = ReadEstablished(),
            QueueSize = inFlight?.Current,
            Gpus = await gpus.ReadAsync(cancellationToken),
        };
    }

    /// <summary>CPU use since the previous reading, against the cgroup's CPU limit when one is set.</summary>
    private double? ReadCpuPercent()
    {
        var now = time.GetTimestamp();
        var reading = ReadCpu(now);
        var previous = _cpu;
        _cpu = reading;
        if (previous.Kind == CpuSource.None || previous.Kind != reading.Kind) return null;
        var busy = reading.Busy - previous.Busy;
        var capacity = reading.Kind == CpuSource.Machine
            ? reading.Total - previous.Total
            : time.GetElapsedTime(previous.At, now).TotalSeconds * 1e9 * reading.Cores;
        return capacity > 0 ? Math.Clamp(100.0 * busy / capacity, 0, 100) : null;
    }

    private CpuReading ReadCpu(long now)
    {
        if (CgroupCpuLimit() is { } cores)
        {
            // v2: usage in microseconds; v1: cpuacct usage in nanoseconds.
            if (ReadKeyed(Path.Combine(cgroupRoot, "cpu.stat"), "usage_usec") is { } usec)
                return new(CpuSource.Cgroup, usec * 1000.0, 0, now, cores);
            if (ReadLong(Path.Combine(cgroupRoot, "cpuacct", "cpuacct.usage")) is { } ns)
                return new(CpuSource.Cgroup, ns, 0, now, cores);
        }
        var line = ReadLines(Path.Combine(procRoot, "stat")).FirstOrDefault(l => l.StartsWith("cpu ", StringComparison.Ordinal));
        if (line is null) return default;
        var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(f => double.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        var total = fields.Sum();
        var idle = fields[3] + (fields.Length > 4 ? fields[4] : 0);
        return new(CpuSource.Machine, total - idle, total, now, Environment.ProcessorCount);
    }

    /// <summary>The cgroup's CPU limit in cores, or null when the container may use the whole machine.</summary>
    private double? CgroupCpuLimit()
    {
        double? limit = null;
        if (ReadText(Path.Combine(cgroupRoot, "cpu.max")) is { } max && max.Split(' ') is [var quota, var period] && quota != "max")
            limit = double.Parse(quota, CultureInfo.InvariantCulture) / double.Parse(period, CultureInfo.InvariantCulture);
        else if (ReadLong(Path.Combine(cgroupRoot, "cpu", "cpu.cfs_quota_us")) is > 0 and var q && ReadLong(Path.Combine(cgroupRoot, "cpu", "cpu.cfs_period_us")) is > 0 and var p)
            limit = (double)q / p;
        return limit is { } l ? Math.Min(l, Environment.ProcessorCount) : null;
    }

    /// <summary>Memory in use (without reclaimable page cache) against the cgroup limit, or the machine's.</summary>
    private (long? Used, long? Total) ReadMemory()
    {
        var info = ReadLines(Path.Combine(procRoot, "meminfo"))
            .Select(l => l.Split(':', 2))
            .Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => long.TryParse(p[1].Replace("kB", "").Trim(), CultureInfo.InvariantCulture, out var kb) ? kb * 1024 : 0);
        info.TryGetValue("MemTotal", out var machineTotal);
        if (ReadText(Path.Combine(cgroupRoot, "memory.max")) is { } max && max != "max" && long.TryParse(max, CultureInfo.InvariantCulture, out var v2Limit)
            && ReadLong(Path.Combine(cgroupRoot, "memory.current")) is { } current)
        {
            var inactive = ReadKeyed(Path.Combine(cgroupRoot, "memory.stat"), "inactive_file") ?? 0;
            return (Math.Max(current - inactive, 0), Math.Min(v2Limit, machineTotal > 0 ? machineTotal : v2Limit));
        }
        if (ReadLong(Path.Combine(cgroupRoot, "memory", "memory.limit_in_bytes")) is { } v1Limit && machineTotal > 0 && v1Limit < machineTotal
            && ReadLong(Path.Combine(cgroupRoot, "memory", "memory.usage_in_bytes")) is { } usage)
        {
            var inactive = ReadKeyed(Path.Combine(cgroupRoot, "memory", "memory.stat"), "total_inactive_file") ?? 0;
            return (Math.Max(usage - inactive, 0), v1Limit);
        }
        if (machineTotal == 0 || !info.TryGetValue("MemAvailable", out var available)) return (null, null);
        return (Math.Max(machineTotal - available, 0), machineTotal);
    }

    /// <summary>Real file systems from the mount table, one entry per device (its shortest mount path: bind mounts collapse).</summary>
    private IReadOnlyList<DiskSample> ReadDisks()
    {
        var mounts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in ReadLines(Path.Combine(procRoot, "mounts")))
        {
            var fields = line.Split(' ');
            if (fields.Length < 3 || PseudoFileSystems.Contains(fields[2])) continue;
            var mount = Unescape(fields[1]);
            if (!Directory.Exists(mount)) continue; // a file bind-mounted into a container (/etc/hosts) is not a disk
            if (!mounts.TryGetValue(fields[0], out var seen) || mount.Length < seen.Length) mounts[fields[0]] = mount;
        }
        var disks = new List<DiskSample>(mounts.Count);
        foreach (var mount in mounts.Values.Order(StringComparer.Ordinal))
        {
            try
            {
                var drive = new DriveInfo(mount);
                if (drive.TotalSize > 0) disks.Add(new DiskSample(mount, drive.TotalSize - drive.TotalFreeSpace, drive.TotalSize));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
            }
        }
        return disks;
    }

    /// <summary>The mount table writes space, tab, newline and backslash as octal escapes.</summary>
    private static string Unescape(string path) => !path.Contains('\\') ? path
        : System.Text.RegularExpressions.Regex.Replace(path, @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());

    /// <summary>Bytes per second per interface (loopback left out) since the previous reading.</summary>
    private IReadOnlyList<NetworkSample> ReadNetworks()
    {
        var now = time.GetTimestamp();
        var counters = new Dictionary<string, (long Rx, long Tx)>();
        foreach (var line in ReadLines(Path.Combine(procRoot, "net", "dev")).Skip(2))
        {
            var colon = line.IndexOf(':');
            if (colon < 0) continue;
            var name = line[..colon].Trim();
            var fields = line[(colon + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (name == "lo" || fields.Length < 9) continue;
            counters[name] = (long.Parse(fields[0], CultureInfo.InvariantCulture), long.Parse(fields[8], CultureInfo.InvariantCulture));
        }
        var seconds = _networkAt == 0 ? 0 : time.GetElapsedTime(_networkAt, now).TotalSeconds;
        var result = new List<NetworkSample>();
        foreach (var (name, (rx, tx)) in counters.OrderBy(c => c.Key, StringComparer.Ordinal))
        {
            if (seconds <= 0 || !_network.TryGetValue(name, out var before)) continue;
            result.Add(new NetworkSample(name, Math.Max(rx - before.Rx, 0) / seconds, Math.Max(tx - before.Tx, 0) / seconds, LinkSpeed(name)));
        }
        (_network, _networkAt) = (counters, now);
        return result;
    }

    /// <summary>The link speed in bytes per second; null where the kernel reports none (virtual interfaces).</summary>
    private static double? LinkSpeed(string name) =>
        ReadLong($"/sys/class/net/{name}/speed") is > 0 and var megabits ? megabits * 125_000.0 : null;

    /// <summary>Established TCP connections, IPv4 and IPv6, from the kernel's counter (reading every socket would cost milliseconds).</summary>
    private int? ReadEstablished()
    {
        var lines = ReadLines(Path.Combine(procRoot, "net", "snmp")).Where(l => l.StartsWith("Tcp:", StringComparison.Ordinal)).ToArray();
        if (lines.Length < 2) return null;
        var index = Array.IndexOf(lines[0].Split(' '), "CurrEstab");
        var values = lines[1].Split(' ');
        return index > 0 && index < values.Length && int.TryParse(values[index], CultureInfo.InvariantCulture, out var count) ? count : null;
    }

    private static string[] ReadLines(string path)
    {
        try
        {
            return File.ReadAllLines(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    private static string? ReadText(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long? ReadLong(string path) =>
        ReadText(path) is { } text && long.TryParse(text, CultureInfo.InvariantCulture, out var value) ? value : null;

    private static long? ReadKeyed(string path, string key) =>
        ReadLines(path).Select(l => l.Split(' ')).FirstOrDefault(p => p.Length == 2 && p[0] == key) is { } pair
        && long.TryParse(pair[1], CultureInfo.InvariantCulture, out var value) ? value : null;

    private enum CpuSource { None, Machine, Cgroup }

    /// <summary>Busy and total in the source's units (jiffies for the machine, nanoseconds for a cgroup).</summary>
    private readonly record struct CpuReading(CpuSource Kind, double Busy, double Total, long At, double Cores);
}
